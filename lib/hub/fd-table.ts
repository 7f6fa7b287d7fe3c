/**
 * The hub's fd table: per fd, the cached readiness and the one reader and one writer parked on
 * it. Green I/O asks it whether a syscall is worth trying, tells it when the kernel said
 * "drained", and parks here when it would block; the poller's events land here.
 *
 * READINESS CACHE. Every event sets bits, whether or not someone waits; I/O clears them when a
 * syscall says the fd is drained (EAGAIN). While a bit is set, I/O tries the syscall directly;
 * while it is clear, it parks first. The poller is edge-triggered (see poller.ts), so data that
 * arrives after a syscall came back empty produces a new edge: no wake-up is lost.
 *
 * A SHORT READ IS NOT ALWAYS "DRAINED". Linux stops a read short with bytes still queued at TCP
 * urgent data, at a Unix message carrying fds or other credentials, and at packet boundaries of
 * a packet-mode pipe; no edge follows, so a reader that took the short read for EAGAIN would
 * wait for ever. Green I/O takes the shortcut (a short read clears the readiness, saving the
 * read that would return EAGAIN) only on TCP sockets and pipes greenhub made itself, and on a
 * TCP socket only until urgent data is seen (EPOLLPRI, a sticky bit): everything else is
 * drained to EAGAIN.
 */
import { roleTakenError, systemError } from '../errors';
import { E, K } from '../native';
import type { Green, Operation } from '../types';
import { type AnyGreenThread, Wait } from './greenthread';
import type { Hub } from './hub';
import { RESUME, SUSPEND_RESULT, done } from './instructions';
import type { HubPoller } from './poller';
import { TimerKind } from './timers';

/** Which way a greenthread waits on an fd (mio's Interest). */
export type Direction = 'read' | 'write';

/** Readiness bits. */
export const READY_READ = 1;
export const READY_WRITE = 2;
/**
 * Sticky bits: the peer shut down its writing (RDHUP), or the fd hung up / failed (HUP, ERR).
 * Once set, reads (or all I/O) never block again, and no further edge is coming: the bits
 * stay until the fd is closed.
 */
const READ_CLOSED = 4;
const ALL_CLOSED = 8;
/** Sticky: urgent data came (EPOLLPRI): short reads on this fd are never taken for drained. */
const URGENT = 16;

const READ_EVENTS = K.EPOLLIN | K.EPOLLPRI | K.EPOLLRDHUP | K.EPOLLHUP | K.EPOLLERR;
const WRITE_EVENTS = K.EPOLLOUT | K.EPOLLHUP | K.EPOLLERR;

/** The readiness bit of a direction. */
export function readyBit(dir: Direction): number {
  return dir === 'write' ? READY_WRITE : READY_READ;
}

/**
 * Who registered an fd: told when its registration is taken over because the fd number now
 * belongs to something else (its owner closed the fd behind greenhub's back).
 */
export interface FdOwner {
  evicted(): void;
}

/**
 * FD NUMBERS ARE REUSED AT ONCE. An fd closed behind greenhub's back (fs.closeSync on a
 * GreenFd's fd, a user closing the fd a trampoline() waits on) stays in this table, and the
 * kernel hands its number to the next socket or pipe. A registration of a number that is still
 * in the table therefore evicts the old one: its waiters get EBADF, its owner is told (so it
 * never closes the number's new file), and the new registration goes ahead.
 */
export class FdTable {
  #ready = new Uint8Array(256);
  readonly #owners: (FdOwner | undefined)[] = [];
  /** dev:ino of adopted fds (a user's fd may be closed and its number reused without us). */
  readonly #identity: (string | undefined)[] = [];
  readonly #readers: (AnyGreenThread | undefined)[] = [];
  readonly #writers: (AnyGreenThread | undefined)[] = [];
  /** Greenthreads parked on an fd, and how many of them hold the process open. */
  waiters = 0;
  refWaiters = 0;
  /** User fds registered only for trampoline() waits (removed by the last waiter out). */
  readonly trampolineFds = new Set<number>();

  constructor(
    readonly hub: Hub,
    readonly poller: HubPoller,
    /** Called when what holds the process open may have changed. */
    readonly onRefChange: () => void,
  ) {}

  /**
   * Registers fd with the poller (edge-triggered, once) and marks it worth trying both ways. A
   * registration left by an fd closed behind greenhub's back is evicted first. `identity`
   * (dev:ino, for fds a user hands over) lets a later trampoline() tell a reused number.
   */
  register(fd: number, owner?: FdOwner, identity?: string): void {
    if (this.poller.isRegistered(fd)) this.evict(fd);
    this.poller.register(fd);
    this.#owners[fd] = owner;
    this.#identity[fd] = identity;
    if (fd >= this.#ready.length) {
      const grown = new Uint8Array(Math.max(fd + 1, this.#ready.length * 2));
      grown.set(this.#ready);
      this.#ready = grown;
    }
    this.#ready[fd] = READY_READ | READY_WRITE;
  }

  /** Whether a syscall on fd in that direction is worth trying (no known EAGAIN since the last edge). */
  isReady(fd: number, bit: number): boolean {
    return (this.#ready[fd] & bit) !== 0;
  }

  /** Whether a short read on fd may be taken for "drained" (no urgent data seen on it). */
  shortReadDrains(fd: number): boolean {
    return (this.#ready[fd] & URGENT) === 0;
  }

  /** The kernel said fd is drained in that direction (EAGAIN). */
  clearReadiness(fd: number, bit: number): void {
    const r = this.#ready[fd];
    if (r & ALL_CLOSED) return;
    if (r & READ_CLOSED) bit &= ~READY_READ;
    this.#ready[fd] = r & ~bit;
  }

  /** Whether fd's registration was made for another open file than the one `identity` names. */
  isStale(fd: number, identity: string): boolean {
    const known = this.#identity[fd];
    return this.poller.isRegistered(fd) && known !== undefined && known !== identity;
  }

  /**
   * Drops a registration whose fd was closed behind greenhub's back: its waiters get EBADF, its
   * owner is told, the number is free for the new file.
   */
  evict(fd: number): void {
    const owner = this.#owners[fd];
    this.trampolineFds.delete(fd);
    this.close(fd, () => systemError(E.EBADF, 'epoll_wait', { detail: `fd ${fd} was closed outside greenhub and its number reused` }), { removeFromKernel: false });
    owner?.evicted();
  }

  /** fd is being closed: each waiter gets the error `errorOf()` makes thrown; the registration is dropped. */
  close(fd: number, errorOf: () => unknown, options: { removeFromKernel: boolean }): void {
    if (fd < this.#ready.length) this.#ready[fd] = 0;
    this.#owners[fd] = undefined;
    this.#identity[fd] = undefined;
    // The error is made only for a waiter: an Error captures a stack, and most closes have none.
    const reader = this.#readers[fd];
    if (reader !== undefined) {
      this.drop(reader);
      this.hub.resumeThrow(reader, errorOf());
    }
    const writer = this.#writers[fd];
    if (writer !== undefined) {
      this.drop(writer);
      this.hub.resumeThrow(writer, errorOf());
    }
    this.poller.deregister(fd, options);
    this.onRefChange();
  }

  /**
   * Parks gt on fd until the next edge in that direction. One reader and one writer per fd: a
   * second concurrent one is a clear error. `ref`: this wait holds the process open.
   */
  park(gt: AnyGreenThread, fd: number, dir: Direction, ref: boolean): void {
    const table = dir === 'write' ? this.#writers : this.#readers;
    const other = table[fd];
    if (other !== undefined && other !== gt) {
      throw roleTakenError(`fd ${fd}`, dir === 'write' ? 'writer' : 'reader', other);
    }
    table[fd] = gt;
    gt.waitKind = dir === 'write' ? Wait.FdWrite : Wait.FdRead;
    gt.waitFd = fd;
    gt.waitRef = ref;
    this.waiters++;
    if (ref) this.refWaiters++;
  }

  /** Takes gt off the fd it is parked on (it was woken, killed or timed out). */
  drop(gt: AnyGreenThread): void {
    const table = gt.waitKind === Wait.FdWrite ? this.#writers : this.#readers;
    if (table[gt.waitFd] === gt) {
      table[gt.waitFd] = undefined;
      this.waiters--;
      if (gt.waitRef) this.refWaiters--;
    }
    gt.waitFd = -1;
  }

  /** Whether some greenthread is parked on fd in that direction. */
  hasWaiter(fd: number, dir: Direction): boolean {
    return this.waiter(fd, dir) !== undefined;
  }

  /** The greenthread parked on fd in that direction, if any. */
  waiter(fd: number, dir: Direction): AnyGreenThread | undefined {
    return (dir === 'write' ? this.#writers : this.#readers)[fd];
  }

  /** Changes whether gt's fd wait holds the process (socket.ref()/unref()). */
  setWaitRef(gt: AnyGreenThread, ref: boolean): void {
    if ((gt.waitKind === Wait.FdRead || gt.waitKind === Wait.FdWrite) && gt.waitRef !== ref) {
      this.refWaiters += ref ? 1 : -1;
      gt.waitRef = ref;
      this.onRefChange();
    }
  }

  /** An event from the poller: set the cached readiness, wake who waits for it. */
  onEvent(fd: number, events: number): void {
    this.#ready[fd] |=
      (events & READ_EVENTS ? READY_READ : 0) |
      (events & WRITE_EVENTS ? READY_WRITE : 0) |
      (events & K.EPOLLRDHUP ? READ_CLOSED : 0) |
      (events & K.EPOLLPRI ? URGENT : 0) |
      (events & (K.EPOLLHUP | K.EPOLLERR) ? ALL_CLOSED : 0);
    if (events & READ_EVENTS) this.#wake(this.#readers[fd], events);
    if (events & WRITE_EVENTS) this.#wake(this.#writers[fd], events);
  }

  #wake(gt: AnyGreenThread | undefined, events: number): void {
    if (gt === undefined) return;
    this.drop(gt);
    this.hub.resumeWith(gt, events);
  }
}

/** One park on an fd as an operation; returns the events that woke it. */
class FdWaitOp implements Operation<number>, Iterator<unknown, number, unknown> {
  constructor(readonly fds: FdTable, readonly fd: number, readonly dir: Direction, readonly ref: boolean) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, number> {
    const gt = this.fds.hub.requireCurrent('waiting on an fd');
    if (v === RESUME) return done(gt.resumeValue as number);
    this.fds.park(gt, this.fd, this.dir, this.ref);
    return SUSPEND_RESULT;
  }
  throw(err: unknown): IteratorResult<unknown, number> {
    throw err;
  }
}

/** How long a park on an fd may last, and what its TimeoutError says. */
export interface FdWaitOptions {
  /** Whether the wait holds the process open. */
  ref: boolean;
  /** Past this (>= 0), a TimeoutError with `timeoutMessage`; -1: no limit (as everywhere in greenhub). */
  timeoutMs: number;
  timeoutMessage?: string;
  /** What timed out, for timeoutOwner(err). */
  owner?: object;
}

/**
 * Waits until fd is ready in that direction (the next edge). The timer, if any, is gone when
 * this returns or throws.
 */
export function* waitFdReady(fds: FdTable, fd: number, dir: Direction, options: FdWaitOptions): Green<number> {
  if (options.timeoutMs < 0) return yield* new FdWaitOp(fds, fd, dir, options.ref);
  const hub = fds.hub;
  const gt = hub.requireCurrent('waiting on an fd');
  const timer = hub.addTimer(TimerKind.Timeout, options.timeoutMs, gt, { ref: options.ref, message: options.timeoutMessage, owner: options.owner });
  try {
    return yield* new FdWaitOp(fds, fd, dir, options.ref);
  } finally {
    hub.cancelTimer(timer);
  }
}
