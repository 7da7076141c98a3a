import os
import sqlite3

from flask import Flask, request

app = Flask(__name__)
app.config['UPLOAD_FOLDER'] = 'uploads'


def db():
    return sqlite3.connect('data/app.db')


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/upload")
def upload():
    f = request.files["file"]
    f.save(os.path.join(app.config['UPLOAD_FOLDER'], f.filename))
    return "ok"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
