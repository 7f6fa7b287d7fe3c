// Smoke test of the installed package from CommonJS: the prebuilt addon loads, a greenthread
// sleeps, and two greenthreads echo over a socket on 127.0.0.1.
'use strict';
const path = require('node:path');
const { connect, listen, sleep, spawn } = require('greenhub');

const pkgDir = path.dirname(require.resolve('greenhub/package.json'));
const loaded = require('node-gyp-build').path(pkgDir);

const server = listen({ host: '127.0.0.1', port: 0 });
spawn(function* () {
  const conn = yield* server.accept();
  const line = yield* conn.readLine();
  yield* conn.sendAll(line);
  conn.close();
});
spawn(function* () {
  const t0 = performance.now();
  yield* sleep(10);
  const slept = performance.now() - t0 >= 10;
  const sock = yield* connect({ host: '127.0.0.1', port: server.address().port });
  yield* sock.sendAll(Buffer.from('ping\n'));
  const back = (yield* sock.readLine()).toString();
  sock.close();
  server.close();
  console.log(JSON.stringify({ module: 'cjs', arch: process.arch, addon: path.relative(pkgDir, loaded), slept, echo: back }));
});
