'use strict';
// An echo server for the fd-exhaustion test, started under a low fd limit
// (sh -c 'ulimit -n 64; exec node emfile-server.js'). Prints "ready <port>", and "fds <n>" on
// each line received on stdin.
const path = require('node:path');
const fs = require('node:fs');
const { listen, serve, spawn } = require(path.join(__dirname, '..', '..', 'dist'));

function* echo(sock) {
  const buf = Buffer.allocUnsafe(4096);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) return;
    yield* sock.sendAll(buf.subarray(0, n));
  }
}

const server = listen({ port: 0, backlog: 1024 });
spawn(() => serve(server, echo, { concurrency: 100000 }));
console.log(`ready ${server.address().port}`);
process.stdin.on('data', () => console.log(`fds ${fs.readdirSync('/proc/self/fd').length}`));
