/**
 * GreenSocket: a connected stream socket (TCP or Unix) with blocking-style calls, eventlet's
 * green socket. Every call that waits returns an operation: `yield* sock.recv(1024)`.
 */
import { type ErrorContext, closedError } from '../errors';
import { READY_WRITE } from '../hub/fd-table';
import { K, check, native } from '../native';
import type { Green } from '../types';
import { validateMs, validateOneOf } from '../validate';
import { type AddressInfo, familyName, toAddressInfo } from './address';
import { adoptableSocket } from './adopt';
import type { FdHandleOptions } from './fd-handle';
import { FdStream } from './fd-stream';

/** How sockets greenhub makes itself (accept, connect) treat their fd: shared, not built per socket. */
const OWN_SOCKET = Object.freeze({ adopted: false, shortIoDrains: true, isSocket: true });
const OWN_UNIX_SOCKET = Object.freeze({ adopted: false, shortIoDrains: false, isSocket: true });

/**
 * A connected stream socket. Get one from `connect()` or `server.accept()`.
 *
 * Reads go through one internal buffer shared by `recv`, `recvInto`, `readExactly`,
 * `readUntil` and `readLine`, so they can be mixed freely (eventlet's `makefile` use). One
 * reader and one writer at a time: a second concurrent one is an error.
 *
 * @example
 * ```ts
 * const sock = yield* connect({ host: '127.0.0.1', port: 8080 });
 * yield* sock.sendAll(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
 * const status = yield* sock.readLine();
 * sock.close();
 * ```
 */
export class GreenSocket extends FdStream {
  readonly #af: number;
  /** @internal */
  readonly readsAhead = true;
  #local: AddressInfo | undefined;
  #remote: AddressInfo | undefined;

  /**
   * Adopts a connected stream socket the process already owns (from a parent process, socket
   * activation, another library): made non-blocking, registered with the hub, and owned by the
   * GreenSocket from now on (close() closes it).
   *
   * @throws TypeError when fd is not a connected stream socket; a system error for a bad fd.
   * @example
   * ```ts
   * const sock = GreenSocket.fromFd(3); // an fd inherited from the parent
   * yield* sock.sendAll(Buffer.from('hello\n'));
   * ```
   */
  static fromFd(fd: number): GreenSocket {
    const { af, identity } = adoptableSocket(fd, 'GreenSocket.fromFd', { listening: false });
    return new GreenSocket(fd, af, { adopted: true, identity });
  }

  /** @internal use connect(), accept() or fromFd() */
  constructor(fd: number, af: number, options?: FdHandleOptions) {
    // A Unix socket's read stops short at a message with fds or credentials: drain it to EAGAIN.
    // A socket greenhub made itself (accept, connect) takes a shared options object: no object
    // is built per connection.
    super(fd, options === undefined ? (af === K.AF_UNIX ? OWN_UNIX_SOCKET : OWN_SOCKET) : { ...options, shortIoDrains: af !== K.AF_UNIX, isSocket: true });
    this.#af = af;
  }

  /** @internal */
  describe(): string {
    return 'socket';
  }

  /** @internal */
  closedError(): Error {
    return closedError('socket', 'ERR_SOCKET_CLOSED');
  }

  /**
   * @internal The end of a non-blocking connect: waits for writability, then reads SO_ERROR.
   * The registration reported the socket's state when it was made, so the write readiness
   * cached before it is cleared first: only the connect's own edge counts.
   */
  finishConnect(context: ErrorContext): Green<number> {
    this.fds.clearReadiness(this.rawFd, READY_WRITE);
    return this.io('write', () => {
      const err = native.getsockopt(this.rawFd, K.SOL_SOCKET, K.SO_ERROR);
      return err <= 0 ? err : -err; // SO_ERROR is a positive errno, 0 once connected
    }, 'connect', context);
  }

  /**
   * A second GreenSocket for the same connection, on a new fd (fcntl `F_DUPFD_CLOEXEC`) with
   * its own registration, reader and writer, and this one's timeout (as eventlet's `dup`).
   * Closing one leaves the other working; the connection ends when both are closed (or at
   * `shutdown`, which acts on the connection). Bytes this socket already read ahead (a
   * `readLine` buffers) stay with it.
   *
   * @throws the closed error; a system error (`EMFILE`…) from fcntl.
   * @example
   * ```ts
   * const other = sock.dup();
   * sock.close();
   * yield* other.sendAll(Buffer.from('still here\n'));
   * ```
   */
  dup(): GreenSocket {
    this.checkOpen();
    const fd = check(native.dup(this.rawFd), 'fcntl');
    let copy: GreenSocket;
    try {
      copy = new GreenSocket(fd, this.#af, { adopted: true });
    } catch (e) {
      native.close(fd);
      throw e;
    }
    this.markShared();
    copy.timeoutMs = this.timeoutMs;
    copy.nonBlocking = this.nonBlocking;
    return copy;
  }

  /**
   * Shuts down one or both directions: `'write'` sends end of stream to the peer (a
   * half-close: you can still read its answer), `'read'` discards further input.
   *
   * @example
   * ```ts
   * yield* sock.sendAll(request);
   * sock.shutdown('write');
   * const answer = yield* sock.readUntil('\n');
   * ```
   */
  shutdown(how: 'read' | 'write' | 'both'): void {
    validateOneOf(how, 'how', ['read', 'write', 'both']);
    const h = how === 'read' ? K.SHUT_RD : how === 'write' ? K.SHUT_WR : K.SHUT_RDWR;
    this.checkOpen();
    check(native.shutdown(this.rawFd, h), 'shutdown');
  }

  // ---------------------------------------------------------------- options and addresses

  /** Disables (or re-enables) Nagle's algorithm. No effect on Unix sockets. */
  setNoDelay(noDelay = true): this {
    this.checkOpen();
    if (this.#af !== K.AF_UNIX) check(native.setsockopt(this.rawFd, K.IPPROTO_TCP, K.TCP_NODELAY, noDelay ? 1 : 0), 'setsockopt');
    return this;
  }

  /** Enables TCP keep-alive probes, the first after `initialDelayMs` idle (rounded up to seconds). */
  setKeepAlive(enable = true, initialDelayMs?: number): this {
    this.checkOpen();
    if (this.#af === K.AF_UNIX) return this;
    check(native.setsockopt(this.rawFd, K.SOL_SOCKET, K.SO_KEEPALIVE, enable ? 1 : 0), 'setsockopt');
    if (enable && initialDelayMs !== undefined) {
      const s = Math.max(1, Math.ceil(validateMs(initialDelayMs, 'initialDelayMs') / 1000));
      check(native.setsockopt(this.rawFd, K.IPPROTO_TCP, K.TCP_KEEPIDLE, s), 'setsockopt');
    }
    return this;
  }

  #localInfo(): AddressInfo | undefined {
    if (this.#local === undefined && !this.closed) {
      const a = native.getsockname(this.rawFd);
      if (typeof a !== 'number') this.#local = toAddressInfo(a);
    }
    return this.#local;
  }

  #remoteInfo(): AddressInfo | undefined {
    if (this.#remote === undefined && !this.closed) {
      const a = native.getpeername(this.rawFd);
      if (typeof a !== 'number') this.#remote = toAddressInfo(a);
    }
    return this.#remote;
  }

  /** This end's address (the path for a Unix socket). */
  get localAddress(): string | undefined {
    return this.#localInfo()?.address;
  }

  get localPort(): number | undefined {
    return this.#localInfo()?.port;
  }

  /** The peer's address (undefined once closed, unless asked before). */
  get remoteAddress(): string | undefined {
    return this.#remoteInfo()?.address;
  }

  get remotePort(): number | undefined {
    return this.#remoteInfo()?.port;
  }

  /** `'IPv4'`, `'IPv6'` or `'Unix'`. */
  get remoteFamily(): AddressInfo['family'] {
    return familyName(this.#af);
  }
}
