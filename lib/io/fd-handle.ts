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
  /** @internal */ readonly reader: Role;
  /** @internal */ readonly writer = new Role('writer');
  readonly #adopted: boolean;

  /** @internal Registers fd with the hub. */
  protected constructor(fd: number, options: FdHandleOptions, readerName = 'reader') {
    this.rawFd = fd;
    this.#adopted = options.adopted;
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
   * Every blocking call on this object throws TimeoutError (`ETIMEDOUT`) once it has waited
   * `ms` for readiness; 0 (the default) waits for ever.
   */
  setTimeout(ms: number): this {
    this.timeoutMs = validateMs(ms, 'ms');
    return this;
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
    this.fds.close(this.rawFd, this.closedError(), { removeFromKernel: this.#adopted });
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
      if (this.fds.isReady(fd, bit)) {
        const r = attempt();
        if (r >= 0) return r;
        if (r !== E.EAGAIN) throw systemError(r, syscall, context);
        this.fds.clearReadiness(fd, bit);
      }
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
