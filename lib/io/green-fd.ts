/**
 * GreenFd and pipe(): blocking-style I/O on any pollable fd the user owns, with the same calls
 * as a GreenSocket (it is a GreenStream).
 */
import { closedError } from '../errors';
import { K, check, native } from '../native';
import { validateBoolean, validateFd, validateOptions } from '../validate';
import { identityOf, statFd } from './adopt';
import { FdStream } from './fd-stream';

/**
 * Options of {@link GreenFd}.
 *
 * @example
 * ```ts
 * const f = new GreenFd(fd, { close: false }); // close() leaves the fd open
 * ```
 */
export interface GreenFdOptions {
  /** Whether close() closes the fd itself (default true: the GreenFd owns it from now on). */
  close?: boolean;
}

/**
 * Blocking-style reads and writes on an fd you own: a pipe, a tty, a character device, an
 * eventfd, a socket from elsewhere. The calls are a GreenSocket's: `recv`, `recvInto`,
 * `readExactly`, `readUntil`, `readLine`, `send`, `sendAll`, `toDuplex` (whose `end()` closes
 * the fd: there is no half-close on a pipe).
 *
 * It is made non-blocking — note that O_NONBLOCK belongs to the open file, so every other
 * holder of the same file (a dup, a parent process) sees it too. Regular files cannot be
 * polled: they are a clear error (read them with tpool or Node's fs).
 *
 * @example
 * ```ts
 * const tty = new GreenFd(0, { close: false }); // stdin
 * const line = yield* tty.readLine();
 * ```
 */
export class GreenFd extends FdStream {
  readonly #closeFd: boolean;
  /** @internal others may read the same file: take no more than asked */
  readonly readsAhead = false;

  constructor(fd: number, options?: GreenFdOptions) {
    validateFd(fd);
    const o = validateOptions(options, 'GreenFd options', ['close']);
    const closeFd = validateBoolean(o.close, 'close', true);
    const stat = statFd(fd);
    if (stat.isFile() || stat.isDirectory()) {
      throw new TypeError(`GreenFd: fd ${fd} is a regular ${stat.isFile() ? 'file' : 'directory'}, which epoll cannot wait on; read it with Node's fs or tpool`);
    }
    check(native.setNonBlocking(fd), 'fcntl');
    // Only a TCP socket's short read means drained (pipe() marks its own pipes); a pipe from
    // elsewhere may be in packet mode, a Unix socket may carry fds: drained to EAGAIN.
    super(fd, { adopted: true, identity: identityOf(stat), shortIoDrains: stat.isSocket() && isTcp(fd), isSocket: stat.isSocket() });
    this.#closeFd = closeFd;
  }

  /** @internal */
  describe(): string {
    return `fd ${this.rawFd}`;
  }

  /** @internal */
  closedError(): Error {
    return closedError('GreenFd', 'ERR_FD_CLOSED');
  }

  /** @internal */
  protected override release(fd: number): void {
    if (this.#closeFd) native.close(fd);
  }

  /**
   * A second GreenFd for the same open file, on a new fd (fcntl `F_DUPFD_CLOEXEC`) that it
   * owns (its close() closes it, whatever this one's `close` option), with its own
   * registration and this one's timeout. Closing one leaves the other working; a pipe's
   * other end sees end of stream only once both are closed.
   *
   * @throws the closed error; a system error (`EMFILE`…) from fcntl.
   * @example
   * ```ts
   * const [r, w] = pipe();
   * const w2 = w.dup();
   * w.close();
   * yield* w2.sendAll(Buffer.from('still open')); // r reads it
   * ```
   */
  dup(): GreenFd {
    this.checkOpen();
    const fd = check(native.dup(this.rawFd), 'fcntl');
    let copy: GreenFd;
    try {
      copy = new GreenFd(fd);
    } catch (e) {
      native.close(fd);
      throw e;
    }
    copy.shortIoDrains = this.shortIoDrains;
    copy.timeoutMs = this.timeoutMs;
    copy.nonBlocking = this.nonBlocking;
    return copy;
  }
}

/** Whether a socket fd is a TCP stream socket. */
function isTcp(fd: number): boolean {
  if (native.getsockopt(fd, K.SOL_SOCKET, K.SO_TYPE) !== K.SOCK_STREAM) return false;
  const a = native.getsockname(fd);
  return typeof a !== 'number' && (a.family === K.AF_INET || a.family === K.AF_INET6);
}

/**
 * A pipe whose two ends are GreenFds: `[readEnd, writeEnd]`, both non-blocking, close-on-exec.
 *
 * @example
 * ```ts
 * const [r, w] = pipe();
 * spawn(function* () { yield* w.sendAll(Buffer.from('ping')); w.close(); });
 * const got = yield* r.recv(); // <Buffer 70 69 6e 67>
 * ```
 */
export function pipe(): [GreenFd, GreenFd] {
  const fds = new Int32Array(2);
  check(native.pipe2(fds), 'pipe2');
  const ends: [GreenFd, GreenFd] = [new GreenFd(fds[0]), new GreenFd(fds[1])];
  for (const end of ends) end.shortIoDrains = true; // pipe2 without O_DIRECT: a byte stream
  return ends;
}
