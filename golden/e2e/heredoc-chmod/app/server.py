"""Notes service: answers / with the greeting the Dockerfile's heredoc wrote."""
import json
import os
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open("/app/data/settings.toml", "rb") as f:
    SETTINGS = tomllib.load(f)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            status, body = 200, {"status": "ok"}
        elif self.path == "/":
            status, body = 200, {"greeting": SETTINGS["greeting"]}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    port = int(os.environ.get("NOTES_PORT", "8010"))
    print(f"notes on :{port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
