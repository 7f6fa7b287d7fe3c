/**
 * The classic Python epoll tutorial's "non-blocking IO by using epoll" server, ported to
 * greenhub's low-level `Poller`: one loop, one epoll instance, a hand-written state machine per
 * connection. It is the style greenthreads exist to replace (compare examples/hello-server.ts).
 *
 * Run:  npx tsx examples/epoll-server.ts      (PORT=9000 to change the port)
 * Try:  curl http://127.0.0.1:8080/
 *
 * The tutorial's sockets are non-blocking (`setblocking(0)`): a call that would wait raises
 * EAGAIN. greenhub's sockets do the same after `setTimeout(0)` (eventlet's `settimeout(0)`), so
 * their calls never wait here; they still run inside `main()`'s greenthread, as every greenhub
 * socket call does. `epoll.wait()` blocks the whole thread, as `epoll.poll()` does in Python.
 */
import { GreenSocket, Poller, cooperate, listen, main } from 'greenhub';
import type { Green } from 'greenhub';

const EOL1 = Buffer.from('\n\n');
const EOL2 = Buffer.from('\n\r\n');
const response = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n' +
    'Hello, world!',
);

/** EAGAIN: the non-blocking call found nothing to do; level-triggered epoll will say when. */
const wouldBlock = (e: unknown): boolean => (e as { code?: unknown }).code === 'EAGAIN';

main(function* server(): Green<void> {
  const serversocket = listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080), backlog: 128 });
  serversocket.setTimeout(0); // non-blocking
  console.log(`listening on http://127.0.0.1:${serversocket.address().port}/`);

  const epoll = new Poller();
  epoll.add(serversocket.fd, Poller.EPOLLIN);
  const connections = new Map<number, GreenSocket>();
  const requests = new Map<number, Buffer>();
  const responses = new Map<number, Buffer>();
  const forget = (fd: number): void => {
    epoll.remove(fd);
    connections.get(fd)!.close();
    connections.delete(fd);
    requests.delete(fd);
    responses.delete(fd);
  };

  try {
    for (;;) {
      // Node's own loop gets a turn now and then (so Ctrl-C, a signal handler, can stop us).
      yield* cooperate();
      for (const { fd, events } of epoll.wait(1000)) {
        if (fd === serversocket.fd) {
          let connection: GreenSocket;
          try {
            connection = yield* serversocket.accept();
          } catch (e) {
            if (wouldBlock(e)) continue; // another client took it: level-triggered, we hear again
            throw e;
          }
          connection.setTimeout(0); // non-blocking
          epoll.add(connection.fd, Poller.EPOLLIN);
          connections.set(connection.fd, connection);
          requests.set(connection.fd, Buffer.alloc(0));
          responses.set(connection.fd, response);
        } else if (events & Poller.EPOLLIN) {
          let chunk: Buffer;
          try {
            chunk = yield* connections.get(fd)!.recv(1024);
          } catch (e) {
            if (wouldBlock(e)) continue;
            forget(fd); // reset by the peer
            continue;
          }
          if (chunk.length === 0) {
            forget(fd); // the peer went away before sending a whole request
            continue;
          }
          const request = Buffer.concat([requests.get(fd)!, chunk]);
          requests.set(fd, request);
          if (request.includes(EOL1) || request.includes(EOL2)) {
            epoll.modify(fd, Poller.EPOLLOUT);
            console.log('-'.repeat(40) + '\n' + request.toString().slice(0, -2));
          }
        } else if (events & Poller.EPOLLOUT) {
          const pending = responses.get(fd)!;
          let written = 0;
          try {
            written = yield* connections.get(fd)!.send(pending);
          } catch (e) {
            if (!wouldBlock(e)) written = -1;
          }
          if (written > 0) responses.set(fd, pending.subarray(written));
          if (written < 0 || responses.get(fd)!.length === 0) {
            epoll.modify(fd, 0);
            connections.get(fd)!.shutdown('both');
          }
        } else if (events & Poller.EPOLLHUP) {
          forget(fd);
        }
      }
    }
  } finally {
    epoll.remove(serversocket.fd);
    epoll.close();
    serversocket.close();
    for (const c of connections.values()) c.close();
  }
});
