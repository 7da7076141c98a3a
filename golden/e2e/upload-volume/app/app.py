"""A tiny upload service in the style of a Flask app, on the standard library.

At start it writes a marker into its upload folder and a row into its
SQLite database, so it only runs when the user it runs as may write both.
"""
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer

UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "uploads")
os.makedirs(UPLOAD_FOLDER, exist_ok=True)
with open(os.path.join(UPLOAD_FOLDER, ".started"), "w") as marker:
    marker.write("ok\n")

os.makedirs('data', exist_ok=True)  # the volume's mount point, when run without it
db = sqlite3.connect('data/app.db')
db.execute("CREATE TABLE IF NOT EXISTS starts (n INTEGER)")
db.execute("INSERT INTO starts VALUES (1)")
db.commit()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%d uploads\n" % (len(os.listdir(UPLOAD_FOLDER)) - 1)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        name = os.path.basename(self.path) or "upload"
        with open(os.path.join(UPLOAD_FOLDER, name), "wb") as f:
            f.write(self.rfile.read(length))
        self.send_response(201)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 5000), Handler).serve_forever()
