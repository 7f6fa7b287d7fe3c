'use strict';
// Node `http` server for `make bench` (hello, keepalive, post): node node-http-server.js <mode>
const http = require('node:http');

const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    // post: echo the body back
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 13 });
  res.end('Hello, world!');
});
server.keepAliveTimeout = 60_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => console.log(`ready ${server.address().port}`));
