const http = require("http");

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.end("ok\n");
    return;
  }
  res.end(`hello from uid ${process.getuid()}\n`);
});

server.listen(process.env.PORT || 80);
