from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis(host="redis", port=6379)


@app.route("/")
def hello():
    count = redis.incr("hits")  # every request changes state
    return f"Hello! I have been seen {count} times.\n"


@app.post("/health")  # not a GET route: a probe must not call it
def reset():
    redis.set("hits", 0)
    return "reset\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
