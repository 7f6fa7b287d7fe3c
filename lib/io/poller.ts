/**
 * `Poller`: epoll itself, for those who want it (the npm `epoll` package's users, or a
 * hand-written event loop like the seed's second example). It has its own epoll instance,
 * separate from the hub's.
 *
 * Unlike the hub's poller, registrations here are level-triggered unless the caller passes
 * `EPOLLET`: an fd that stays readable is reported again on every wait, as `select.epoll` does
 * in Python. Remove an fd before closing it: the kernel forgets a closed fd by itself, but the
 * Poller would still count it as registered (and, in callback mode, keep the process alive).
 */
import { E, K, check, native } from '../native';
import { closedError, systemError } from '../errors';
import { validateFd, validateFunction, validateInt, validateMs, validateOptions } from '../validate';

/**
 * One readiness report: the fd and the `EPOLL*` bits that are set.
 *
 * @example
 * ```ts
 * const events: PollEvent[] = poller.wait(100);
 * ```
 */
export interface PollEvent {
  fd: number;
  events: number;
}

/**
 * Options for {@link Poller}.
 *
 * @example
 * ```ts
 * const poller = new Poller({ maxEvents: 64 });
 * ```
 */
export interface PollerOptions {
  /** Most events returned by one `wait()` or delivered in one callback batch (default 256). */
  maxEvents?: number;
}


/** Normalises an events mask to a signed 32-bit int (EPOLLET is bit 31). */
function validateEvents(events: unknown): number {
  return validateInt(events, 'events', -0x80000000, 0xffffffff) | 0;
}

/**
 * A low-level epoll instance.
 *
 * @example
 * ```ts
 * import { Poller } from 'greenhub';
 * const poller = new Poller();
 * poller.add(fd, Poller.EPOLLIN);
 * for (const { fd, events } of poller.wait(1000)) {
 *   if (events & Poller.EPOLLIN) handleReadable(fd);
 * }
 * poller.close();
 * ```
 */
export class Poller {
  static readonly EPOLLIN = K.EPOLLIN;
  static readonly EPOLLOUT = K.EPOLLOUT;
  static readonly EPOLLPRI = K.EPOLLPRI;
  static readonly EPOLLERR = K.EPOLLERR;
  static readonly EPOLLHUP = K.EPOLLHUP;
  static readonly EPOLLRDHUP = K.EPOLLRDHUP;
  static readonly EPOLLET = K.EPOLLET;
  static readonly EPOLLONESHOT = K.EPOLLONESHOT;
  static readonly EPOLLEXCLUSIVE = K.EPOLLEXCLUSIVE;

  #epfd: number;
  readonly #events: Int32Array;
  readonly #fds = new Set<number>();
  #callback: ((fd: number, events: number) => void) | undefined;
  #refed = true;

  constructor(options: PollerOptions = {}) {
    validateOptions(options, 'Poller options', ['maxEvents']);
    const maxEvents = options.maxEvents === undefined ? 256 : validateInt(options.maxEvents, 'maxEvents', 1, 1024);
    this.#events = new Int32Array(maxEvents * 3);
    this.#epfd = check(native.epollCreate(), 'epoll_create1');
  }

  /** The epoll fd itself (-1 once closed). */
  get fd(): number {
    return this.#epfd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#epfd < 0;
  }

  /** Number of fds currently registered. */
  get size(): number {
    return this.#fds.size;
  }

  #open(): number {
    if (this.#epfd < 0) throw closedError('Poller', 'ERR_POLLER_CLOSED');
    return this.#epfd;
  }

  /**
   * Registers `fd` for `events` (`Poller.EPOLLIN | ...`; level-triggered unless `EPOLLET`).
   * Throws a system error (`EEXIST` when already added, `EBADF` for a closed fd, `EPERM` for a
   * regular file).
   */
  add(fd: number, events: number): this {
    const epfd = this.#open();
    validateFd(fd);
    const ev = validateEvents(events);
    check(native.epollCtl(epfd, K.EPOLL_CTL_ADD, fd, ev, 0), 'epoll_ctl', { detail: `add fd ${fd}` });
    this.#fds.add(fd);
    this.#updateRef();
    return this;
  }

  /** Changes the events of a registered fd. Throws `ENOENT` when it is not registered. */
  modify(fd: number, events: number): this {
    const epfd = this.#open();
    validateFd(fd);
    const ev = validateEvents(events);
    check(native.epollCtl(epfd, K.EPOLL_CTL_MOD, fd, ev, 0), 'epoll_ctl', { detail: `modify fd ${fd}` });
    return this;
  }

  /** Unregisters `fd`. Throws `ENOENT` when it is not registered. */
  remove(fd: number): this {
    const epfd = this.#open();
    validateFd(fd);
    const r = native.epollCtl(epfd, K.EPOLL_CTL_DEL, fd, 0, 0);
    // A closed fd has left the epoll set already (EBADF): forget it all the same.
    if (r === 0 || r === E.EBADF) this.#fds.delete(fd);
    this.#updateRef();
    check(r, 'epoll_ctl', { detail: `remove fd ${fd}` });
    return this;
  }

  /**
   * Waits up to `timeoutMs` (0 polls, `Infinity` waits for ever) and returns the ready fds.
   * This blocks the whole JS thread while it waits: that is the caller's choice. Use
   * `start(callback)` to be told on Node's loop instead.
   */
  wait(timeoutMs: number): PollEvent[] {
    const epfd = this.#open();
    validateMs(timeoutMs, 'timeoutMs', { allowInfinity: true });
    const ms = timeoutMs === Infinity ? -1 : Math.min(Math.ceil(timeoutMs), 0x7fffffff);
    const n = check(native.epollWait(epfd, this.#events, ms), 'epoll_wait');
    const out: PollEvent[] = new Array(n);
    const ev = this.#events;
    for (let i = 0; i < n; i++) out[i] = { fd: ev[3 * i], events: ev[3 * i + 2] >>> 0 };
    return out;
  }

  /**
   * Callback mode: `callback(fd, events)` runs on Node's loop for each ready fd (one native
   * call per batch). While at least one fd is registered the poller keeps the process alive,
   * unless `unref()`'d. An exception thrown by the callback reaches `process.on('uncaughtException')`
   * after the rest of the batch has been delivered (edge-triggered events would be lost).
   */
  start(callback: (fd: number, events: number) => void): this {
    const epfd = this.#open();
    validateFunction(callback, 'callback');
    if (this.#callback) {
      this.#callback = callback;
      return this;
    }
    this.#callback = callback;
    check(native.attach(epfd, this.#events, (n) => this.#onBatch(n), () => {}), 'attach');
    this.#updateRef();
    return this;
  }

  /** Leaves callback mode. */
  stop(): this {
    if (this.#callback && this.#epfd >= 0) native.detach(this.#epfd);
    this.#callback = undefined;
    return this;
  }

  /** In callback mode, keep the process alive while fds are registered (the default). */
  ref(): this {
    this.#refed = true;
    this.#updateRef();
    return this;
  }

  /** In callback mode, do not keep the process alive. */
  unref(): this {
    this.#refed = false;
    this.#updateRef();
    return this;
  }

  /** Stops callback mode and closes the epoll fd. Idempotent. */
  close(): void {
    if (this.#epfd < 0) return;
    this.stop();
    native.close(this.#epfd);
    this.#epfd = -1;
    this.#fds.clear();
  }

  #updateRef(): void {
    if (this.#callback && this.#epfd >= 0) native.pollRef(this.#epfd, this.#refed && this.#fds.size > 0);
  }

  #onBatch(n: number): void {
    if (n < 0) throw systemError(n, 'epoll_wait');
    const ev = this.#events;
    // Edge-triggered events do not come again: one callback that throws must not cost the
    // rest of the batch. Every event is delivered, then the first error is thrown.
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < n; i++) {
      const cb = this.#callback;
      if (!cb) break; // stopped or closed by an earlier callback in this batch
      try {
        cb(ev[3 * i], ev[3 * i + 2] >>> 0);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
