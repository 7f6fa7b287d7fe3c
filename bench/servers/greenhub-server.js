'use strict';
// greenhub servers for `make bench`: node greenhub-server.js <echo|hello|keepalive> [--threads N]
// With --threads N, one hub per worker thread, all listening on one port with SO_REUSEPORT.
const path = require('node:path');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { listen, serve, spawn } = require(process.env.GREENHUB_DIST || path.join(__dirname, '..', '..', 'dist'));

const HELLO_10 = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!');
const HELLO_11 = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!');

function* echo(sock) {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) return;
    yield* sock.sendAll(n === buf.length ? buf : buf.subarray(0, n));
  }
}

function* hello(sock) {
  const head = yield* sock.readUntil('\r\n\r\n');
  if (head.length > 0) yield* sock.sendAll(HELLO_10);
}

function* keepalive(sock) {
  for (;;) {
    const head = yield* sock.readUntil('\r\n\r\n');
    if (head.length === 0) return;
    yield* sock.sendAll(HELLO_11);
  }
}

const handlers = { echo, hello, keepalive };
// A clean exit on SIGINT/SIGTERM (so --cpu-prof can write its profile).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));

function run(mode, port, reusePort) {
  const server = listen({ host: '127.0.0.1', port, backlog: 4096, reusePort });
  spawn(() => serve(server, handlers[mode], { concurrency: 100000 }));
  return server.address().port;
}

if (isMainThread) {
  const mode = process.argv[2];
  if (!handlers[mode]) throw new Error(`mode must be echo, hello or keepalive, got ${mode}`);
  const i = process.argv.indexOf('--threads');
  const threads = i > 0 ? Number(process.argv[i + 1]) : 1;
  if (threads <= 1) {
    console.log(`ready ${run(mode, 0, false)}`);
  } else {
    // The main thread picks the port and serves too; the workers join it with SO_REUSEPORT.
    const port = run(mode, 0, true);
    let ready = 1;
    for (let t = 1; t < threads; t++) {
      const w = new Worker(__filename, { workerData: { mode, port } });
      w.on('message', () => {
        if (++ready === threads) console.log(`ready ${port}`);
      });
    }
  }
} else {
  run(workerData.mode, workerData.port, true);
  parentPort.postMessage('ready');
}
