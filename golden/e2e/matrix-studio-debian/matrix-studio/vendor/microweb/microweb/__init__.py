"""A very small routing layer over http.server, standing in for Flask."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class App:
    def __init__(self, name):
        self.name = name
        self.routes = {}

    def get(self, path):
        def register(fn):
            self.routes[path] = fn
            return fn
        return register

    def handler(self):
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fn = routes.get(self.path.split("?", 1)[0])
                status, body = (200, fn()) if fn else (404, {"error": "not found"})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, fmt, *args):
                print("%s - %s" % (self.address_string(), fmt % args), flush=True)

        return Handler

    def run(self, host="0.0.0.0", port=5000):
        print(f"{self.name} listening on {host}:{port}", flush=True)
        ThreadingHTTPServer((host, port), self.handler()).serve_forever()


def jsonify(**kw):
    return kw
