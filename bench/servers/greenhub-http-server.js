'use strict';
// greenhub's HTTP server (serveHttp) for `make bench` (hello, keepalive, post), answering as
// node-http-server.js does: node greenhub-http-server.js <mode>
const path = require('node:path');
const { listen, serveHttp, spawn } = require(process.env.GREENHUB_DIST || path.join(__dirname, '..', '..', 'dist'));

const BODY = Buffer.from('Hello, world!');
const server = listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
spawn(() =>
  serveHttp(server, function* hello(req, res) {
    if (req.method === 'POST') {
      // post: echo the body back
      const body = yield* req.readAll();
      res.setHeader('Content-Type', 'application/octet-stream');
      yield* res.end(body);
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    yield* res.end(BODY);
  }, { keepAliveTimeoutMs: 60_000 }),
);
console.log(`ready ${server.address().port}`);
// A clean exit on SIGINT/SIGTERM (so --cpu-prof can write its profile).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
