/**
 * An echo server: every byte a client sends comes back. `serve` runs the accept loop and one
 * greenthread per connection; main() runs the accept loop as the program's root greenthread, so
 * Ctrl-C closes the server (the finally block) and ends the open connections (exit code 130).
 *
 * Run:  npx tsx examples/echo-server.ts       (PORT=7001 to change the port)
 * Try:  npx tsx examples/echo-client.ts hello world
 */
import { listen, main, serve } from 'greenhub';
import type { Green, GreenSocket } from 'greenhub';

function* echo(sock: GreenSocket): Green<void> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) break; // the client closed: serve() closes our side
    yield* sock.sendAll(buf.subarray(0, n));
  }
}

main(function* echoServer(): Green<void> {
  const server = listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 7000) });
  console.log(`echo server listening on 127.0.0.1:${server.address().port}`);
  try {
    yield* serve(server, echo, { concurrency: 10_000 });
  } finally {
    server.close();
  }
});
