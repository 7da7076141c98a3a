// Every request to / counts a visit: a health check must never call it.
let visits = 0;
require('http').createServer((req, res) => {
  visits++;
  console.log(`visit ${visits} ${req.method} ${req.url}`);
  res.end(`visits: ${visits}\n`);
}).listen(8072);
