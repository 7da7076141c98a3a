require('http').createServer((req, res) => res.end('shop')).listen(3000);
