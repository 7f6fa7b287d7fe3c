/**
 * FdHandle: what every green fd object is built on (sockets, servers, UDP, GreenFd): the fd,
 * close(), ref()/unref(), the timeout, the reader and writer roles, and `io()`, the one
 * "try the syscall, park on EAGAIN" loop of green I/O (mio's `do_io`, Go's `poll.FD`).
 *
 * THE RULE (DESIGN.md, performance rules): try the syscall first; park the greenthread only
 * when the kernel says EAGAIN. The hub's fd table caches readiness per fd, so a syscall is
 * tried only when it may succeed, and the edge-triggered poller guarantees that data arriving
 * after an EAGAIN produces a new edge. The hot read/write path (fd-stream.ts) keeps an
 * allocation-free copy of this loop as a hand-written iterator; it parks through the same fd
 * table calls.
 */
import { systemError, type ErrorContext } from '../errors';
import { type Direction, type FdWaitOptions, readyBit, waitFdReady } from '../hub/fd-table';
import type { AnyGreenThread } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { E, native } from '../native';
import type { Green } from '../types';
import { validateMs } from '../validate';
import { Role } from './role';
import { type SocketOptionName, type SocketOptionValue, getSocketOption, setSocketOption } from './socket-options';

/** How a handle came to own its fd. */
export interface FdHandleOptions {
  /**
   * The fd came from the user or another process (GreenFd, fromFd, listenFd): it may have
   * duplicates elsewhere, so close() takes it out of the epoll set explicitly.
   */
  adopted: boolean;
  /** dev:ino of an adopted fd (fd-table.ts: a reused number is told apart by it). */
  identity?: string;
}

export abstract class FdHandle {
  /** @internal */ readonly hub = getHub();
  /** @internal */ readonly fds = this.hub.fds;
  /** @internal the fd itself, also once closed */ readonly rawFd: number;
  /** @internal */ isClosed = false;
  /** @internal whether its waits hold the process open */ refed = true;
  /** @internal each park's limit in ms; 0 = none */ timeoutMs = 0;
  /** @internal setTimeout(0): a call that would park throws EAGAIN instead (eventlet's settimeout(0)) */ nonBlocking = false;
  /** @internal */ readonly reader: Role;
  /** @internal */ readonly writer = new Role('writer');
  /** The fd may have duplicates (adopted, or dup()ed): close() takes it out of the epoll set itself. */
  #shared: boolean;

  /** @internal Registers fd with the hub. */
  protected constructor(fd: number, options: FdHandleOptions, readerName = 'reader') {
    this.rawFd = fd;
    this.#shared = options.adopted;
    this.reader = new Role(readerName);
    this.fds.register(fd, this, options.identity);
  }

  /**
   * @internal The fd was closed behind our back and its number now belongs to another file:
   * this handle is closed, without closing that number again.
   */
  evicted(): void {
    this.isClosed = true;
  }

  /** @internal what this is, for messages ("socket", "fd 7") */
  abstract describe(): string;
  /** @internal the error every call gets once closed */
  abstract closedError(): Error;

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this.isClosed ? -1 : this.rawFd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * How its blocking calls wait, as eventlet's `settimeout`: `ms > 0`: each throws
   * TimeoutError (`ETIMEDOUT`) once it has waited `ms` for readiness; `null` or `Infinity`
   * (the default): they wait for ever; `0`: non-blocking — a call that would wait throws a
   * system error with `code: 'EAGAIN'` at once instead (what it had done by then stays done:
   * `sendAll` may have sent part, a `readLine` keeps the bytes it read buffered).
   *
   * @example
   * ```ts
   * sock.setTimeout(0);
   * try {
   *   const data = yield* sock.recv(); // what is there now
   * } catch (e) {
   *   if ((e as { code?: string }).code !== 'EAGAIN') throw e; // nothing yet
   * }
   * sock.setTimeout(null); // blocking again
   * ```
   */
  setTimeout(ms: number | null): this {
    if (ms === null || ms === Infinity) {
      this.timeoutMs = 0;
      this.nonBlocking = false;
      return this;
    }
    const t = validateMs(ms, 'ms', { allowInfinity: true });
    this.timeoutMs = t;
    this.nonBlocking = t === 0;
    return this;
  }

  /**
   * What setTimeout set: `null` for none (wait for ever), 0 for non-blocking, else ms.
   *
   * @example
   * ```ts
   * if (sock.getTimeout() === null) sock.setTimeout(30_000);
   * ```
   */
  getTimeout(): number | null {
    return this.nonBlocking ? 0 : this.timeoutMs === 0 ? null : this.timeoutMs;
  }

  /**
   * Sets a socket option by name (setsockopt(2)): flags take a boolean, sizes and counts an
   * integer (see {@link SocketOptionName}). Linux doubles `SO_RCVBUF`/`SO_SNDBUF`: getOption
   * then reports twice the value set.
   *
   * @throws RangeError for an unknown name; TypeError/RangeError for a bad value; a system
   *   error from the kernel (`ENOTSOCK` on a pipe, `ENOTSUP` for TCP options on a Unix socket).
   * @example
   * ```ts
   * sock.setOption('TCP_NODELAY', true);
   * sock.setOption('SO_RCVBUF', 256 * 1024);
   * ```
   */
  setOption<N extends SocketOptionName>(name: N, value: SocketOptionValue<N>): this {
    this.checkOpen();
    setSocketOption(this.rawFd, name, value);
    return this;
  }

  /**
   * Reads a socket option by name (getsockopt(2)): a boolean for flags, a number otherwise.
   *
   * @throws RangeError for an unknown name; a system error from the kernel.
   * @example
   * ```ts
   * const rcvbuf = sock.getOption('SO_RCVBUF'); // bytes, as the kernel counts them (doubled)
   * ```
   */
  getOption<N extends SocketOptionName>(name: N): SocketOptionValue<N> {
    this.checkOpen();
    return getSocketOption(this.rawFd, name) as SocketOptionValue<N>;
  }

  /**
   * @internal Another fd now refers to the same open file (dup()): epoll keeps a registration
   * until every fd of the file is closed, so close() must remove ours explicitly.
   */
  markShared(): void {
    this.#shared = true;
  }

  /** Its blocking calls hold the process open (the default). */
  ref(): this {
    this.#setRef(true);
    return this;
  }

  /** Its blocking calls do not hold the process open. */
  unref(): this {
    this.#setRef(false);
    return this;
  }

  #setRef(ref: boolean): void {
    this.refed = ref;
    if (this.reader.holder) this.fds.setWaitRef(this.reader.holder, ref);
    if (this.writer.holder) this.fds.setWaitRef(this.writer.holder, ref);
  }

  /** Closes the fd. Idempotent. Every greenthread blocked on it is woken with the closed error. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.fds.close(this.rawFd, () => this.closedError(), { removeFromKernel: this.#shared });
    this.release(this.rawFd);
  }

  /** @internal releases the fd itself once it has left the hub (a subclass may not own it) */
  protected release(fd: number): void {
    native.close(fd);
  }

  /** @internal throws the closed error once closed */
  checkOpen(): void {
    if (this.isClosed) throw this.closedError();
  }

  /**
   * @internal Takes the reader or writer role for the running greenthread; returns the previous
   * holder. `call` names the blocking call in the error for a call outside any greenthread.
   */
  enter(dir: Direction, call?: string): AnyGreenThread | undefined {
    if (this.isClosed) throw this.closedError();
    const gt = this.hub.current ?? this.hub.requireCurrent(call ?? `${this.describe()} I/O`);
    return (dir === 'write' ? this.writer : this.reader).take(gt, this.describe());
  }

  /** @internal Gives the role back. */
  leave(dir: Direction, prev: AnyGreenThread | undefined): void {
    (dir === 'write' ? this.writer : this.reader).give(prev);
  }

  /**
   * @internal The one "try, then park" loop: runs `attempt` (a syscall returning a count or
   * -errno) while the fd may be ready, parks on EAGAIN until the next edge (with this handle's
   * timeout), and returns the first non-negative result. Any other -errno is thrown as a
   * system error of `syscall`.
   */
  *io(dir: Direction, attempt: () => number, syscall: string, context?: ErrorContext): Green<number> {
    const bit = readyBit(dir);
    for (;;) {
      if (this.isClosed) throw this.closedError();
      const fd = this.rawFd;
      // Non-blocking mode asks the kernel even when the cache says drained: an edge may be
      // queued in epoll that the hub has not drained yet, and EAGAIN must be the kernel's word.
      if (this.fds.isReady(fd, bit) || this.nonBlocking) {
        const r = attempt();
        if (r >= 0) return r;
        if (r !== E.EAGAIN) throw systemError(r, syscall, context);
        this.fds.clearReadiness(fd, bit);
      }
      if (this.nonBlocking) throw systemError(E.EAGAIN, syscall, context);
      yield* waitFdReady(this.fds, fd, dir, this.parkOptions(dir));
    }
  }

  /** @internal How a park on this handle's fd holds the process and times out. */
  parkOptions(dir: Direction): FdWaitOptions {
    const ms = this.timeoutMs;
    if (ms === 0) return { ref: this.refed, timeoutMs: -1 };
    return { ref: this.refed, timeoutMs: ms, timeoutMessage: `${this.describe()} ${this.verb(dir)} timed out after ${ms} ms`, owner: this };
  }

  /** @internal What a wait in that direction is called in a timeout message ("read", "receive"). */
  protected verb(dir: Direction): string {
    return dir;
  }
}
