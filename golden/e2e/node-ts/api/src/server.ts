import http from "http";
import ms from "ms";
import { greet } from "./greet";

const port = Number(process.env.PORT || 8080);
const started = Date.now();

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ message: greet(process.env.GREETING), uptime: ms(Date.now() - started) }) + "\n");
});

server.listen(port, () => console.log(`greeter-api on :${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
