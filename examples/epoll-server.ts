/**
 * The classic Python epoll tutorial's "non-blocking IO by using epoll" server, ported to
 * greenhub's low-level `Poller`: one thread, one epoll loop, a hand-written state machine per
 * connection. It is the style greenthreads exist to replace (compare examples/hello-server.ts).
 *
 * Run:  npx tsx examples/epoll-server.ts      (PORT=9000 to change the port)
 * Try:  curl http://127.0.0.1:8080/
 *
 * Python's socket module does the syscalls in the tutorial; here they come from greenhub's own
 * syscall layer (lib/native), which returns -errno instead of raising.
 */
import { Poller } from '../lib';
import { E, K, check, native } from '../lib/native';

const EOL1 = Buffer.from('\n\n');
const EOL2 = Buffer.from('\n\r\n');
const response = Buffer.from(
  'HTTP/1.0 200 OK\r\nDate: Mon, 1 Jan 1996 01:01:01 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n' +
    'Hello, world!',
);
const port = Number(process.env.PORT ?? 8080);

const server = check(native.socket(K.AF_INET, K.SOCK_STREAM), 'socket');
check(native.setsockopt(server, K.SOL_SOCKET, K.SO_REUSEADDR, 1), 'setsockopt');
check(native.bind(server, K.AF_INET, '127.0.0.1', port), 'bind', { address: '127.0.0.1', port });
check(native.listen(server, 128), 'listen');

const epoll = new Poller();
epoll.add(server, Poller.EPOLLIN);

const requests = new Map<number, Buffer>();
const responses = new Map<number, Buffer>();
const chunk = Buffer.allocUnsafe(1024);
const bound = native.getsockname(server);
console.log(`listening on http://127.0.0.1:${typeof bound === 'number' ? port : bound.port}/`);

try {
  for (;;) {
    for (const { fd, events } of epoll.wait(1000)) {
      if (fd === server) {
        const conn = native.accept4(server);
        if (conn < 0) continue; // another event will come (level-triggered)
        epoll.add(conn, Poller.EPOLLIN);
        requests.set(conn, Buffer.alloc(0));
        responses.set(conn, response);
      } else if (events & Poller.EPOLLIN) {
        const n = native.read(fd, chunk, 0, chunk.length);
        if (n === E.EAGAIN) continue;
        if (n <= 0) {
          // The peer went away before sending a whole request.
          epoll.remove(fd);
          native.close(fd);
          requests.delete(fd);
          responses.delete(fd);
          continue;
        }
        const request = Buffer.concat([requests.get(fd)!, chunk.subarray(0, n)]);
        requests.set(fd, request);
        if (request.includes(EOL1) || request.includes(EOL2)) {
          epoll.modify(fd, Poller.EPOLLOUT);
          console.log('-'.repeat(40) + '\n' + request.toString().slice(0, -2));
        }
      } else if (events & Poller.EPOLLOUT) {
        const pending = responses.get(fd)!;
        const n = native.write(fd, pending, 0, pending.length);
        if (n > 0) responses.set(fd, pending.subarray(n));
        if (n < 0 || responses.get(fd)!.length === 0) {
          epoll.modify(fd, 0);
          native.shutdown(fd, K.SHUT_RDWR);
        }
      } else if (events & Poller.EPOLLHUP) {
        epoll.remove(fd);
        native.close(fd);
        requests.delete(fd);
        responses.delete(fd);
      }
    }
  }
} finally {
  epoll.remove(server);
  epoll.close();
  native.close(server);
}
