/**
 * The classic blocking web server of Python's epoll tutorial, written with greenhub. The code reads
 * like the blocking original (accept, recv until the blank line, send, close), but each
 * connection runs in its own greenthread, so it serves many clients at once.
 *
 * Run:  npx tsx examples/hello-server.ts      (PORT=9000 to change the port)
 * Try:  curl http://127.0.0.1:8080/
 */
import { listen, main, spawn } from 'greenhub';
import type { Green, GreenSocket } from 'greenhub';

const EOL1 = Buffer.from('\n\n');
const EOL2 = Buffer.from('\n\r\n');
const response = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n' +
    'Hello, world!',
);

function* handle(connection: GreenSocket): Green<void> {
  try {
    let request = Buffer.alloc(0);
    while (!request.includes(EOL1) && !request.includes(EOL2)) {
      const chunk = yield* connection.recv(1024);
      if (chunk.length === 0) return; // the client went away
      request = Buffer.concat([request, chunk]);
    }
    console.log('-'.repeat(40) + '\n' + request.toString().slice(0, -2));
    yield* connection.sendAll(response);
  } finally {
    connection.close();
  }
}

// The program's root greenthread: Ctrl-C kills it (the server closes), and the connections'
// greenthreads are shut down with it.
main(function* acceptLoop(): Green<void> {
  const server = listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080), backlog: 1024 });
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
  try {
    for (;;) {
      const connection = yield* server.accept();
      spawn(handle, connection);
    }
  } finally {
    server.close();
  }
});
