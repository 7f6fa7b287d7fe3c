// Smoke test of the installed package from ESM: named imports, one hub shared with require().
import { createRequire } from 'node:module';
import { connect, getHub, listen, sleep, spawn } from 'greenhub';

const require = createRequire(import.meta.url);
const sameHub = require('greenhub').getHub() === getHub();

const server = listen({ host: '127.0.0.1', port: 0 });
spawn(function* () {
  const conn = yield* server.accept();
  yield* conn.sendAll(yield* conn.readLine());
  conn.close();
});
spawn(function* () {
  yield* sleep(10);
  const sock = yield* connect({ host: '127.0.0.1', port: server.address().port });
  yield* sock.sendAll(Buffer.from('pong\n'));
  const back = (yield* sock.readLine()).toString();
  sock.close();
  server.close();
  console.log(JSON.stringify({ module: 'esm', arch: process.arch, sameHub, echo: back }));
});
