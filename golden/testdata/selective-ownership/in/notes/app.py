import sqlite3

from flask import Flask

app = Flask(__name__)


def db():
    return sqlite3.connect('notes.db')


@app.get("/healthz")
def healthz():
    return "ok"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5001)
