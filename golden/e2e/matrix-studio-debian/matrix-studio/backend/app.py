from microweb import App, jsonify

app = App(__name__)


@app.get("/api/health")
def health():
    return jsonify(status="ok")


@app.get("/api/scenes")
def scenes():
    return jsonify(scenes=["intro", "main", "credits"])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
