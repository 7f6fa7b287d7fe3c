/**
 * An echo server: every byte a client sends comes back. `serve` runs the accept loop and one
 * greenthread per connection.
 *
 * Run:  npx tsx examples/echo-server.ts       (PORT=7001 to change the port)
 * Try:  npx tsx examples/echo-client.ts hello world
 */
import { listen, serve, spawn } from '../lib';
import type { Green, GreenSocket } from '../lib';

function* echo(sock: GreenSocket): Green<void> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) break; // the client closed: serve() closes our side
    yield* sock.sendAll(buf.subarray(0, n));
  }
}

const server = listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 7000) });
console.log(`echo server listening on 127.0.0.1:${server.address().port}`);
spawn(() => serve(server, echo, { concurrency: 10_000 }));
