/**
 * The hub's poller: one epoll instance per hub, attached to Node's loop.
 *
 * Readiness model (stated once, relied on everywhere): each fd is registered once,
 * edge-triggered, for IN|OUT|RDHUP, and never touched with epoll_ctl again until it is closed.
 * An edge says "something changed"; whoever waits on the fd drains it until EAGAIN (or a short
 * read, for streams) before waiting for the next edge.
 *
 * Each registration gets a fresh generation number, stored beside the fd in the kernel's event
 * (mio's Token). The kernel reuses fd numbers at once: an event that was drained for an fd
 * that has since been closed and whose number now belongs to a new registration carries the
 * old generation and is dropped here, so it never wakes the new owner.
 */
import { E, K, check, native } from '../native';
import { systemError } from '../errors';

/** Most events drained per batch. */
const BATCH = 1024;
// EPOLLPRI: TCP urgent data stops a read short with bytes still queued (fd-table.ts).
const HUB_EVENTS = K.EPOLLIN | K.EPOLLPRI | K.EPOLLOUT | K.EPOLLRDHUP | K.EPOLLET;

export type ReadyHandler = (fd: number, events: number) => void;

export class HubPoller {
  readonly epfd: number;
  /** (fd, generation, events) triples, shared with the addon. */
  readonly events = new Int32Array(3 * BATCH);
  /** Generation of the live registration per fd; 0 = not registered. */
  #gen = new Int32Array(256);
  #nextGen = 1;
  #registered = 0;
  #attached = false;
  #onReady: ReadyHandler;

  constructor(onReady: ReadyHandler) {
    this.#onReady = onReady;
    this.epfd = check(native.epollCreate(), 'epoll_create1');
  }

  /** How many fds are registered. */
  get registered(): number {
    return this.#registered;
  }

  /** Registers fd (edge-triggered IN|OUT|RDHUP); returns its generation. Throws a system error. */
  register(fd: number): number {
    if (fd >= this.#gen.length) {
      const grown = new Int32Array(Math.max(fd + 1, this.#gen.length * 2));
      grown.set(this.#gen);
      this.#gen = grown;
    }
    if (this.#gen[fd] !== 0) throw new Error(`fd ${fd} is already registered with the hub`);
    const gen = this.#nextGen;
    this.#nextGen = this.#nextGen === 0x7fffffff ? 1 : this.#nextGen + 1;
    let r = native.epollCtl(this.epfd, K.EPOLL_CTL_ADD, fd, HUB_EVENTS, gen);
    // The same open file is still in the set under this number (its registration was dropped
    // after it was closed behind our back and dup'd back, or a second handle wraps it): take
    // it over with the new generation.
    if (r === E.EEXIST) r = native.epollCtl(this.epfd, K.EPOLL_CTL_MOD, fd, HUB_EVENTS, gen);
    if (r < 0) {
      throw systemError(r, 'epoll_ctl', {
        detail: r === E.EPERM ? `fd ${fd} cannot be polled (a regular file or directory?)` : `add fd ${fd}`,
      });
    }
    this.#gen[fd] = gen;
    this.#registered++;
    return gen;
  }

  /** Whether fd has a live registration. */
  isRegistered(fd: number): boolean {
    return fd < this.#gen.length && this.#gen[fd] !== 0;
  }

  /**
   * Forgets fd's registration. Call it before closing the fd. `removeFromKernel` also issues
   * EPOLL_CTL_DEL: needed for fds that may have duplicates elsewhere (a user's fd), pointless for
   * sockets the hub owns, which leave the epoll set when they are closed.
   */
  deregister(fd: number, options: { removeFromKernel: boolean }): void {
    if (!this.isRegistered(fd)) return;
    this.#gen[fd] = 0;
    this.#registered--;
    if (options.removeFromKernel) native.epollCtl(this.epfd, K.EPOLL_CTL_DEL, fd, 0, 0);
  }

  /** Hands each of the first n drained events to its handler, dropping stale generations. */
  dispatch(n: number): void {
    if (n < 0) throw systemError(n, 'epoll_wait');
    const ev = this.events;
    const gen = this.#gen;
    for (let i = 0; i < n; i++) {
      const fd = ev[3 * i];
      const token = ev[3 * i + 1];
      if (fd < gen.length && gen[fd] === token) {
        this.#onReady(fd, ev[3 * i + 2]);
      }
    }
  }

  /** A non-blocking drain: dispatches what is ready now; returns how many events came. */
  drain(): number {
    const n = native.epollWait(this.epfd, this.events, 0);
    this.dispatch(n);
    return n;
  }

  /**
   * Attaches to Node's loop: `onBatch(n)` runs for each batch of n events the loop delivers (it
   * dispatches them); `onTimer` when the timer armed by `armTimer` fires.
   */
  attach(onBatch: (n: number) => void, onTimer: () => void): void {
    if (this.#attached) return;
    check(
      native.attach(this.epfd, this.events, onBatch, () => {
        this.#timerDeadline = NaN; // fired: no longer armed
        onTimer();
      }),
      'attach',
    );
    this.#attached = true;
  }

  /** Whether the epoll watch holds the process open. */
  setRef(ref: boolean): void {
    if (this.#attached) native.pollRef(this.epfd, ref);
  }

  /** The hub deadline the loop timer is armed for (NaN: not armed), and whether it holds the process. */
  #timerDeadline = NaN;
  #timerRef = false;

  /**
   * Arms the one loop timer for the hub's `deadline`, `ms` from now (replacing the previous
   * one); `ref`: it holds the process open. Armed already for that deadline: nothing to do, so
   * a wake-up that leaves the earliest timer as it was costs no call into the addon.
   */
  armTimer(ms: number, options: { ref: boolean; deadline: number }): void {
    if (options.deadline === this.#timerDeadline && options.ref === this.#timerRef) return;
    // libuv takes any uint64, the addon an int32: a later deadline just re-arms when this fires.
    native.timerStart(this.epfd, Math.min(ms, 0x7fffffff), options.ref);
    this.#timerDeadline = options.deadline;
    this.#timerRef = options.ref;
  }

  disarmTimer(): void {
    if (!this.#attached || Number.isNaN(this.#timerDeadline)) return; // not armed: nothing to stop
    native.timerStop(this.epfd);
    this.#timerDeadline = NaN;
  }

  /** Detaches and closes the epoll fd. */
  close(): void {
    if (this.#attached) native.detach(this.epfd);
    this.#attached = false;
    this.#timerDeadline = NaN;
    native.close(this.epfd);
  }
}
