"""Stats service: answers / with a sum computed by the fastsum C extension."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import fastsum


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            status, body = 200, {"status": "ok"}
        elif self.path == "/":
            status, body = 200, {"sum_1_to_100": fastsum.sum(range(1, 101))}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    port = int(os.environ.get("STATS_PORT", "8000"))
    print(f"stats on :{port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
