/**
 * socketpair(): two connected Unix stream sockets, as GreenSockets (Python's
 * `socket.socketpair`, eventlet's green one).
 */
import { K, check, native } from '../native';
import { GreenSocket } from './socket';

/**
 * Two connected AF_UNIX stream sockets, `[a, b]`: what one sends the other receives, both
 * ways; non-blocking, close-on-exec, each a full GreenSocket (`shutdown('write')` on one is end
 * of stream at the other). For talking between greenthreads through the kernel, or handing one
 * end to a child process.
 *
 * @throws a system error (`EMFILE`…) from socketpair(2).
 * @example
 * ```ts
 * const [a, b] = socketpair();
 * spawn(function* () { yield* a.sendAll(Buffer.from('ping\n')); });
 * const line = yield* b.readLine(); // <Buffer 70 69 6e 67 0a>
 * a.close();
 * b.close();
 * ```
 */
export function socketpair(): [GreenSocket, GreenSocket] {
  const fds = new Int32Array(2);
  check(native.socketpair(K.SOCK_STREAM, fds), 'socketpair');
  let first: GreenSocket | undefined;
  try {
    first = new GreenSocket(fds[0], K.AF_UNIX);
    return [first, new GreenSocket(fds[1], K.AF_UNIX)];
  } catch (e) {
    // A registration that failed: no fd is left behind.
    if (first !== undefined) first.close();
    else native.close(fds[0]);
    native.close(fds[1]);
    throw e;
  }
}
