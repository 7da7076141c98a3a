// Reports how long it has been up, in words (ms formats the duration).
const http = require("http");
const ms = require("ms");

const started = Date.now();
http
  .createServer((req, res) => {
    if (req.url === "/healthz") {
      res.end("ok\n");
      return;
    }
    res.end("up " + ms(Date.now() - started, { long: true }) + "\n");
  })
  .listen(3000);
