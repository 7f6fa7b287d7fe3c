/**
 * The hub: the scheduler, exactly one per JS thread (see getHub()).
 *
 * ONE TURN (DESIGN.md, layer 2), in this order:
 *   1. read the clock once; fire the timers that are due;
 *   2. the yield lane (greenthreads that called sleep(0), or a cooperate() that yielded, during
 *      the previous turn) joins the back of the run queue;
 *   3. the run queue runs: the high lane first, then the normal lane; each greenthread is
 *      resumed by a synchronous gen.next()/gen.throw(). Only what was queued when the run began
 *      runs: what wakes during the run waits for the next turn;
 *   4. a non-blocking drain of the poller (skipped while no fd is registered) queues what it wakes.
 * So sleep(0) lets every runnable greenthread, every ready fd and every timer due by the next
 * turn go first, and a yield goes to the back whatever its priority: priority orders wake-ups,
 * it never lets a spinner starve the others.
 *
 * Turns repeat while they find work, but control goes back to Node's loop at least every
 * timeSliceMs, so Node's own timers, I/O and promises are never starved. With nothing runnable
 * the hub arms the earliest deadline on its one loop timer and returns to Node.
 *
 * KEEP-ALIVE: the hub holds the process open exactly while it has a runnable greenthread, an fd
 * waiter, or a live timer (each of the latter two may be unref'd by its owner), like Node's own
 * handles. A greenthread waiting on a promise or an Event does not hold it.
 */
import * as path from 'node:path';
import { GreenletExit, TimeoutError, isGreenletExit } from '../errors';
import { K, native } from '../native';
import type { Operation, Priority } from '../types';
import { type AnyGreenThread, GreenThread, NO_ERROR, State, Wait, type Waitable } from './greenthread';
import { RESUME, SUSPEND } from './instructions';
import { HubPoller } from './poller';
import { RunQueue } from './run-queue';
import { Timer, TimerHeap, TimerKind } from './timers';

const READ_EVENTS = K.EPOLLIN | K.EPOLLRDHUP | K.EPOLLHUP | K.EPOLLERR;
const WRITE_EVENTS = K.EPOLLOUT | K.EPOLLHUP | K.EPOLLERR;
/** Readiness cache bits. */
export const READY_READ = 1;
export const READY_WRITE = 2;
/**
 * Sticky bits: the peer shut down its writing (RDHUP), or the fd hung up / failed (HUP, ERR).
 * Once set, reads (or all I/O) never block again, so "a short read means drained" no longer
 * holds: data and the FIN can come in one edge, and no edge follows the FIN.
 */
const READ_CLOSED = 4;
const ALL_CLOSED = 8;

const now = (): number => performance.now();

const TIMER_OF_ERROR = Symbol.for('greenhub.timeoutTimer');

/** @internal Whether err is the TimeoutError that timer t threw. */
export function isTimeoutOf(err: unknown, t: Timer): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[TIMER_OF_ERROR] === t;
}

/**
 * One line of `getHub().dump()`.
 *
 * @example
 * ```ts
 * for (const g of getHub().dump()) console.log(g.id, g.name, g.state, g.waitingOn ?? '');
 * ```
 */
export interface GreenThreadInfo {
  id: number;
  name: string;
  priority: Priority;
  /** 'new' (not started), 'runnable', 'running', 'sleeping', 'waiting'. */
  state: 'new' | 'runnable' | 'running' | 'sleeping' | 'waiting';
  /** What it waits on, e.g. "fd 7 for read", "timer until +12.0 ms", "a promise", "greenthread 3 (worker)". */
  waitingOn: string | null;
  /** Time run, in ms (measured only while accounting is on). */
  runTimeMs: number;
  switches: number;
  spawnSite?: string;
}

/**
 * What `getHub().stats()` returns.
 *
 * @example
 * ```ts
 * const { greenthreads, runnable, fdWaiters } = getHub().stats();
 * ```
 */
export interface HubStats {
  /** Live greenthreads (not yet dead). */
  greenthreads: number;
  /** Queued to run (including the yield lane). */
  runnable: number;
  /** Pending timers. */
  timers: number;
  /** Greenthreads waiting on an fd. */
  fdWaiters: number;
  /** fds registered with the hub's poller. */
  registeredFds: number;
  /** Greenthread resumes since the hub started. */
  switches: number;
  /** Turns run since the hub started. */
  turns: number;
  /** Errors passed to the error handler. */
  uncaughtErrors: number;
}

/**
 * Receives an error that no waiter, `then` or `link` observed by the end of the turn in which
 * its greenthread died.
 *
 * @example
 * ```ts
 * const handler: ErrorHandler = (err, gt) => logger.error({ err, greenthread: gt.name });
 * getHub().onError(handler);
 * ```
 */
export type ErrorHandler = (err: unknown, gt: AnyGreenThread) => void;

/**
 * Receives warnings: looping-call overruns, EMFILE back-off and the like.
 *
 * @example
 * ```ts
 * getHub().onWarning((message) => logger.warn(message));
 * ```
 */
export type WarningHandler = (message: string) => void;

function defaultErrorHandler(err: unknown, gt: AnyGreenThread): void {
  const stack = err instanceof Error ? err.stack ?? String(err) : String(err);
  let text = `greenhub: uncaught error in greenthread "${gt.name}" (id ${gt.id}):\n${stack}\n`;
  if (gt.spawnSite) text += `  spawned at:\n${gt.spawnSite}\n`;
  process.stderr.write(text);
}

function defaultWarningHandler(message: string): void {
  process.stderr.write(`greenhub warning: ${message}\n`);
}

function describeYielded(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') {
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

/**
 * The scheduler. Users reach it through `getHub()` for stats, dump(), handlers and settings;
 * the blocking operations use its internal methods.
 *
 * @example
 * ```ts
 * const hub = getHub();
 * hub.timeSliceMs = 5;
 * hub.onError((err, gt) => log.error({ err, greenthread: gt.name }));
 * console.table(hub.dump());
 * ```
 */
export class Hub {
  /** The greenthread running now (undefined outside any). */
  current: AnyGreenThread | undefined;
  /**
   * Longest run before control goes back to Node's loop while work keeps coming, and the
   * threshold of cooperate(). Default 10 ms.
   */
  get timeSliceMs(): number {
    return this.#timeSliceMs;
  }
  set timeSliceMs(ms: number) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`timeSliceMs must be a finite number of ms >= 0, got ${String(ms)}`);
    }
    this.#timeSliceMs = ms;
  }
  #timeSliceMs = 10;
  /** Whether the running greenthread's time is measured (off by default: the switch path reads no clock). */
  accounting = false;
  /** @internal capture spawn sites (a blocking detector is on) */
  captureSpawnSites = false;
  /**
   * @internal Shared with the watchdog worker: [0] switch count, [1] id of the running greenthread
   * (0 = none). Plain stores: nothing else is done per switch for blocking detection.
   */
  readonly shared = new Int32Array(new SharedArrayBuffer(16));

  /** @internal */ readonly poller: HubPoller;
  /** @internal user fds registered only for trampoline() waits (removed by the last waiter out) */
  readonly trampolineFds = new Set<number>();
  readonly #high = new RunQueue();
  #normal = new RunQueue();
  #yieldLane = new RunQueue();
  readonly #timers = new TimerHeap();
  #timerSeq = 0;
  /**
   * Readiness cache per fd (READY_READ | READY_WRITE): set by every event, whether or not
   * someone waits, and cleared by the I/O code when a syscall says the fd is drained. While a
   * bit is set, I/O tries the syscall directly; while it is clear, it parks first.
   */
  #ready = new Uint8Array(256);
  #readers: (AnyGreenThread | undefined)[] = [];
  #writers: (AnyGreenThread | undefined)[] = [];
  #fdWaiters = 0;
  #refFdWaiters = 0;
  #pollRefed = false;
  #inTurns = false;
  /** The setImmediate that runs the next turns (runnable work waits for it). */
  #immediate: NodeJS.Immediate | undefined;
  readonly #runFromImmediate = (): void => {
    this.#immediate = undefined;
    this.#runTurns();
  };
  #turnStart = now();
  #switches = 0;
  #turns = 0;
  #nextId = 1;
  #uncaught = 0;
  readonly #live = new Set<AnyGreenThread>();
  #unobserved: AnyGreenThread[] = [];
  /** Names of greenthreads that ended while a blocking detector ran (a report may name one late). */
  readonly #recentlyDead = new Map<number, { name: string; spawnSite?: string }>();
  #errorHandler: ErrorHandler = defaultErrorHandler;
  #warningHandler: WarningHandler = defaultWarningHandler;

  constructor() {
    this.poller = new HubPoller((fd, events) => this.#onFdReady(fd, events));
    this.poller.attach(() => this.#runTurns(), () => this.#runTurns());
  }

  // ---------------------------------------------------------------- public

  /** Counters. */
  stats(): HubStats {
    return {
      greenthreads: this.#live.size,
      runnable: this.#high.length + this.#normal.length + this.#yieldLane.length,
      timers: this.#timers.size,
      fdWaiters: this.#fdWaiters,
      registeredFds: this.poller.registered,
      switches: this.#switches,
      turns: this.#turns,
      uncaughtErrors: this.#uncaught,
    };
  }

  /** Every live greenthread: id, name, state, what it waits on, time run. */
  dump(): GreenThreadInfo[] {
    const t = now();
    const out: GreenThreadInfo[] = [];
    for (const gt of this.#live) {
      const info: GreenThreadInfo = {
        id: gt.id,
        name: gt.name,
        priority: gt.priority,
        state: 'waiting',
        waitingOn: null,
        runTimeMs: gt.runTimeMs,
        switches: gt.switches,
      };
      if (gt.spawnSite) info.spawnSite = gt.spawnSite;
      switch (gt.state) {
        case State.New:
          info.state = gt.startTimer ? 'sleeping' : 'new';
          if (gt.startTimer) info.waitingOn = `start at +${(gt.startTimer.deadline - t).toFixed(1)} ms`;
          break;
        case State.Runnable:
          info.state = 'runnable';
          break;
        case State.Running:
          info.state = 'running';
          break;
        default:
          info.waitingOn = this.#describeWait(gt, t);
          info.state = gt.waitKind === Wait.Timer ? 'sleeping' : 'waiting';
      }
      out.push(info);
    }
    return out;
  }

  /** Sets the handler of uncaught greenthread errors (null: back to the default, which prints to stderr). */
  onError(handler: ErrorHandler | null): void {
    if (handler !== null && typeof handler !== 'function') throw new TypeError('onError() needs a function or null');
    this.#errorHandler = handler ?? defaultErrorHandler;
  }

  /** Sets the handler of warnings (looping-call overruns, EMFILE back-off…; null: one line on stderr). */
  onWarning(handler: WarningHandler | null): void {
    if (handler !== null && typeof handler !== 'function') throw new TypeError('onWarning() needs a function or null');
    this.#warningHandler = handler ?? defaultWarningHandler;
  }

  /** Kills every live greenthread except the caller (from inside a greenthread) with `err`. */
  killAll(err?: unknown): void {
    // A greenthread on the stack below the caller gets a pending kill (it dies at its next suspension).
    for (const gt of [...this.#live]) {
      if (gt !== this.current) this.kill(gt, err ?? new GreenletExit());
    }
  }

  /**
   * Kills every greenthread, again and again until none is left, so every `finally` block
   * runs (one that suspends is killed at that suspension in the next round). Called from a
   * greenthread, the caller is killed last, at the call site.
   */
  shutdown(): void {
    for (let round = 0; round < 100; round++) {
      const victims = [...this.#live].filter((gt) => gt !== this.current && gt.pendingKill === NO_ERROR);
      if (victims.length === 0) break;
      for (const gt of victims) this.kill(gt, new GreenletExit('hub shut down'));
    }
    if (this.current) this.kill(this.current, new GreenletExit('hub shut down'));
  }

  // ---------------------------------------------------------------- greenthreads

  /** @internal */
  spawn<T>(name: string | undefined, priority: Priority, body: (...args: never[]) => Iterator<unknown, T, unknown> | Operation<T>, args: unknown[], delayMs: number): GreenThread<T> {
    const id = this.#nextId++;
    const site = this.captureSpawnSites ? captureSite() : undefined;
    const gt = new GreenThread<T>(this, id, name || body.name || `greenthread-${id}`, priority, body, args, site);
    gt.parent = this.current;
    this.#live.add(gt as AnyGreenThread);
    if (delayMs > 0) {
      gt.startTimer = this.addTimer(delayMs, TimerKind.Start, gt as AnyGreenThread, undefined, true);
    } else {
      this.#enqueue(gt as AnyGreenThread);
    }
    return gt;
  }

  /** @internal The running greenthread, or an error saying the call blocks. */
  requireCurrent(what: string): AnyGreenThread {
    const cur = this.current;
    if (cur === undefined) {
      throw new Error(`${what} blocks, so it must run inside a greenthread (spawn one and use yield*); from async code, await a greenthread instead`);
    }
    return cur;
  }

  /** @internal Queues gt to resume with `value` (its wait has already been undone by the waker). */
  resumeWith(gt: AnyGreenThread, value: unknown): void {
    if (gt.state === State.Dead) return;
    gt.resumeValue = value;
    gt.resumeError = NO_ERROR;
    gt.waitKind = Wait.None;
    this.#enqueue(gt);
  }

  /** @internal Queues gt to have `err` thrown at its suspension point. */
  resumeThrow(gt: AnyGreenThread, err: unknown): void {
    if (gt.state === State.Dead) return;
    gt.resumeValue = undefined;
    gt.resumeError = err;
    gt.waitKind = Wait.None;
    this.#enqueue(gt);
  }

  /** @internal Undoes gt's wait and queues err to be thrown into it (timeouts). */
  throwInto(gt: AnyGreenThread, err: unknown): void {
    if (gt.state === State.Dead || gt.state === State.New) return;
    if (gt.state === State.Running) {
      // On the stack (it caused this itself): thrown at its next suspension.
      if (gt.pendingKill === NO_ERROR) gt.pendingKill = err;
      return;
    }
    this.#giveBack(gt);
    this.cancelWait(gt);
    this.resumeThrow(gt, err);
  }

  /** A greenthread handed a value (a permit, an item) that it will not take: give it back. */
  #giveBack(gt: AnyGreenThread): void {
    const h = gt.handoff;
    if (h !== undefined) {
      gt.handoff = undefined;
      h.giveBack(gt, gt.resumeValue);
    }
  }

  /** @internal sleep(0): to the back of the next turn's queue, whatever the priority. */
  yieldCurrent(gt: AnyGreenThread): void {
    gt.waitKind = Wait.Yield;
    gt.resumeValue = undefined;
    gt.resumeError = NO_ERROR;
    gt.state = State.Runnable;
    this.#yieldLane.push(gt, ++gt.wakeSeq);
  }

  /** @internal Whether the current turn has run longer than timeSliceMs (one clock read). */
  sliceExpired(): boolean {
    return now() - this.#turnStart > this.#timeSliceMs;
  }

  /** @internal */
  kill(gt: AnyGreenThread, err: unknown): void {
    switch (gt.state) {
      case State.Dead:
        return;
      case State.New:
        // Not started: the body never runs.
        if (gt.startTimer) this.#timers.remove(gt.startTimer);
        gt.startTimer = undefined;
        gt.wakeSeq++;
        this.#finish(gt, undefined, err);
        this.#afterOutsideChange();
        return;
      case State.Running:
        if (gt === this.current) throw err;
        // On the stack but not on top: it dies at its next suspension.
        if (gt.pendingKill === NO_ERROR) gt.pendingKill = err;
        return;
      default: {
        // Suspended, or woken and queued: throw at its suspension point, now.
        this.#giveBack(gt);
        this.cancelWait(gt);
        gt.wakeSeq++;
        gt.resumeValue = undefined;
        gt.resumeError = err;
        this.#resume(gt);
        this.#afterOutsideChange();
      }
    }
  }

  /** @internal Removes gt from whatever it waits on. */
  cancelWait(gt: AnyGreenThread): void {
    switch (gt.waitKind) {
      case Wait.Timer:
        if (gt.waitTimer) this.#timers.remove(gt.waitTimer);
        gt.waitTimer = undefined;
        break;
      case Wait.FdRead:
      case Wait.FdWrite:
        this.#dropFdWaiter(gt);
        break;
      case Wait.Promise:
        gt.waitToken++;
        break;
      case Wait.GreenThread: {
        const target = gt.waitObj as AnyGreenThread;
        const i = target.waiters.indexOf(gt);
        if (i >= 0) target.waiters.splice(i, 1);
        break;
      }
      case Wait.Custom:
        (gt.waitObj as Waitable).cancelWait(gt);
        break;
      default:
        break;
    }
    gt.waitKind = Wait.None;
    gt.waitObj = undefined;
    gt.wakeSeq++; // any queued entry is now stale
    if (gt.state === State.Runnable) gt.state = State.Suspended;
  }

  // ---------------------------------------------------------------- timers

  /** @internal */
  addTimer(ms: number, kind: TimerKind, gt: AnyGreenThread | undefined, fn: (() => void) | undefined, ref: boolean, message?: string): Timer {
    const t = new Timer(now() + ms, this.#timerSeq++, kind, gt, fn, ref, message);
    this.#timers.push(t);
    if (!this.#inTurns && this.#timers.peek() === t) this.#park();
    return t;
  }

  /** @internal Cancels a pending timer (no-op if it fired). */
  cancelTimer(t: Timer): void {
    this.#timers.remove(t);
    this.#afterOutsideChange();
  }

  /**
   * Called outside the turns (async code killed a greenthread, closed a socket, cancelled a
   * timer): what holds the process open may have changed, and an error may await reporting.
   */
  #afterOutsideChange(): void {
    if (this.#inTurns) return;
    if (this.#unobserved.length > 0) this.wakeup();
    this.#park();
  }

  /** @internal */
  setTimerRef(t: Timer, ref: boolean): void {
    this.#timers.setRef(t, ref);
    if (!this.#inTurns) this.#park();
  }

  /** @internal sleep(ms) */
  sleepCurrent(gt: AnyGreenThread, ms: number, ref = true): void {
    gt.waitTimer = this.addTimer(ms, TimerKind.Wake, gt, undefined, ref);
    gt.waitKind = Wait.Timer;
  }

  // ---------------------------------------------------------------- fds

  /**
   * @internal Parks gt until fd is readable (or writable). One reader and one writer per fd: a
   * second concurrent one is a clear error. `ref` = this wait holds the process open.
   */
  waitFd(gt: AnyGreenThread, fd: number, write: boolean, ref: boolean): void {
    const table = write ? this.#writers : this.#readers;
    const other = table[fd];
    if (other !== undefined && other !== gt) {
      throw new Error(`fd ${fd} already has a ${write ? 'writer' : 'reader'}: greenthread ${other.id} (${other.name}) is waiting on it`);
    }
    table[fd] = gt;
    gt.waitKind = write ? Wait.FdWrite : Wait.FdRead;
    gt.waitFd = fd;
    gt.waitRef = ref;
    this.#fdWaiters++;
    if (ref) this.#refFdWaiters++;
  }

  /** @internal Whether some greenthread waits on fd in that direction. */
  hasFdWaiter(fd: number, write: boolean): boolean {
    return (write ? this.#writers : this.#readers)[fd] !== undefined;
  }

  /** @internal Changes whether gt's fd wait holds the process (socket.ref()/unref()). */
  setFdWaitRef(gt: AnyGreenThread, ref: boolean): void {
    if ((gt.waitKind === Wait.FdRead || gt.waitKind === Wait.FdWrite) && gt.waitRef !== ref) {
      this.#refFdWaiters += ref ? 1 : -1;
      gt.waitRef = ref;
      if (!this.#inTurns) this.#park();
    }
  }

  /** @internal Registers fd with the poller (edge-triggered, once) and marks it worth trying. */
  registerFd(fd: number): void {
    this.poller.register(fd);
    if (fd >= this.#ready.length) {
      const grown = new Uint8Array(Math.max(fd + 1, this.#ready.length * 2));
      grown.set(this.#ready);
      this.#ready = grown;
    }
    this.#ready[fd] = READY_READ | READY_WRITE;
  }

  /** @internal Cached readiness bits of fd. */
  readiness(fd: number): number {
    return this.#ready[fd];
  }

  /** @internal The fd said it is drained in that direction (EAGAIN, or a short read/write). */
  clearReadiness(fd: number, bits: number): void {
    const r = this.#ready[fd];
    if (r & ALL_CLOSED) return;
    if (r & READ_CLOSED) bits &= ~READY_READ;
    this.#ready[fd] = r & ~bits;
  }

  /** @internal The fd is being closed: its waiters get `err` thrown; the registration is dropped. */
  closeFd(fd: number, err: unknown, removeFromKernel: boolean): void {
    if (fd < this.#ready.length) this.#ready[fd] = 0;
    for (const table of [this.#readers, this.#writers]) {
      const gt = table[fd];
      if (gt !== undefined) {
        this.#dropFdWaiter(gt);
        this.resumeThrow(gt, err);
      }
    }
    this.poller.deregister(fd, removeFromKernel);
    this.#afterOutsideChange();
  }

  #dropFdWaiter(gt: AnyGreenThread): void {
    const table = gt.waitKind === Wait.FdWrite ? this.#writers : this.#readers;
    if (table[gt.waitFd] === gt) {
      table[gt.waitFd] = undefined;
      this.#fdWaiters--;
      if (gt.waitRef) this.#refFdWaiters--;
    }
    gt.waitFd = -1;
  }

  #onFdReady(fd: number, events: number): void {
    this.#ready[fd] |=
      (events & READ_EVENTS ? READY_READ : 0) |
      (events & WRITE_EVENTS ? READY_WRITE : 0) |
      (events & K.EPOLLRDHUP ? READ_CLOSED : 0) |
      (events & (K.EPOLLHUP | K.EPOLLERR) ? ALL_CLOSED : 0);
    if (events & READ_EVENTS) {
      const gt = this.#readers[fd];
      if (gt !== undefined) {
        this.#dropFdWaiter(gt);
        this.resumeWith(gt, events);
      }
    }
    if (events & WRITE_EVENTS) {
      const gt = this.#writers[fd];
      if (gt !== undefined) {
        this.#dropFdWaiter(gt);
        this.resumeWith(gt, events);
      }
    }
  }

  // ---------------------------------------------------------------- errors

  /** @internal A warning for the warning handler. */
  warn(message: string): void {
    this.#warningHandler(message);
  }

  /** @internal An error for the error handler (errors of link callbacks, handlers…). */
  reportError(err: unknown, gt: AnyGreenThread): void {
    this.#uncaught++;
    try {
      this.#errorHandler(err, gt);
    } catch (handlerErr) {
      // A broken handler must not corrupt the turn or swallow the next reports: its own error
      // surfaces as an uncaught exception, after the turn.
      process.nextTick(() => {
        throw handlerErr;
      });
    }
  }

  // ---------------------------------------------------------------- the turn

  /** @internal Name and spawn site of a greenthread by id: live, or among those that ended while a detector ran. */
  describeGreenThread(id: number): { name: string; spawnSite?: string } | undefined {
    for (const gt of this.#live) if (gt.id === id) return { name: gt.name, spawnSite: gt.spawnSite };
    return this.#recentlyDead.get(id);
  }

  /** @internal Makes sure a turn runs soon (from code outside the hub: a promise, a kill, spawn). */
  wakeup(): void {
    if (this.#inTurns || this.#immediate !== undefined) return;
    // setImmediate, not a 0 ms loop timer: libuv runs a timer re-armed from its own callback
    // again in the same pass, which would never let Node's loop reach its I/O. An immediate runs
    // after Node's I/O phase, and holds the process open like any runnable work should.
    this.#immediate = setImmediate(this.#runFromImmediate);
  }

  #enqueue(gt: AnyGreenThread): void {
    if (gt.state !== State.New) gt.state = State.Runnable;
    (gt.priority === 'high' ? this.#high : this.#normal).push(gt, ++gt.wakeSeq);
    if (!this.#inTurns) this.wakeup();
  }

  #hasRunnable(): boolean {
    return this.#high.length + this.#normal.length + this.#yieldLane.length > 0;
  }

  /** Entered from Node's loop (a poll batch or the timer): turns until idle or the slice ends. */
  #runTurns(): void {
    if (this.#inTurns) return;
    this.#inTurns = true;
    const sliceStart = now();
    let t = sliceStart;
    try {
      // One clock read per turn: it dates the turn's timers and checks the slice.
      for (;;) {
        this.#turn(t);
        if (!this.#hasRunnable()) break;
        t = now();
        if (t - sliceStart >= this.#timeSliceMs) break;
      }
    } finally {
      this.#inTurns = false;
      this.#park();
    }
  }

  #turn(t0: number): void {
    this.#turnStart = t0;
    this.#turns++;
    // 1. timers due by now
    for (let t = this.#timers.peek(); t !== undefined && t.deadline <= t0; t = this.#timers.peek()) {
      this.#timers.pop();
      this.#fire(t);
    }
    // 2. last turn's yields go to the back (an O(1) swap when the run queue is empty, as it is
    // when greenthreads only yield to each other)
    if (this.#yieldLane.length > 0) {
      if (this.#normal.length === 0) {
        const q = this.#normal;
        this.#normal = this.#yieldLane;
        this.#yieldLane = q;
      } else {
        this.#yieldLane.drainInto(this.#normal);
      }
    }
    // 3. run what is queued now, high lane first
    // Both lengths first: what the high lane wakes waits for the next turn too.
    let nh = this.#high.length;
    let nn = this.#normal.length;
    while (nh-- > 0) this.#runEntry(this.#high);
    while (nn-- > 0) this.#runEntry(this.#normal);
    // 4. what the kernel says is ready runs next turn. The drain matters when another turn
    // follows at once (there is runnable work: a yielder must not resume before a ready fd).
    // With nothing runnable the hub parks, and libuv's watch on the epoll fd (level-triggered)
    // calls back with the batch: draining here too would cost an empty epoll_wait per batch.
    if (this.poller.registered > 0 && this.#hasRunnable()) this.poller.drain();
    if (this.#unobserved.length > 0) this.#reportUnobserved();
  }

  #runEntry(q: RunQueue): void {
    const seq = q.peekSeq();
    const gt = q.shift();
    if (gt.wakeSeq !== seq || gt.state === State.Dead) return; // stale entry
    if (gt.waitKind === Wait.Yield) gt.waitKind = Wait.None;
    this.#resume(gt);
  }

  #fire(t: Timer): void {
    const gt = t.gt;
    switch (t.kind) {
      case TimerKind.Wake:
        if (gt && gt.waitTimer === t) {
          gt.waitTimer = undefined;
          this.resumeWith(gt, undefined);
        }
        break;
      case TimerKind.Start:
        if (gt && gt.state === State.New && gt.startTimer === t) {
          gt.startTimer = undefined;
          this.#enqueue(gt);
        }
        break;
      case TimerKind.Timeout:
        // A greenthread already woken (with its result, or a handed value) keeps what it got.
        // (A greenthread in the yield lane has been handed nothing: it can be interrupted.)
        if (gt && (gt.state === State.Suspended || (gt.state === State.Runnable && gt.waitKind === Wait.Yield))) {
          const err = new TimeoutError(t.message);
          // Which timer threw: an operation with its own timeout tells it from an outer one.
          Object.defineProperty(err, TIMER_OF_ERROR, { value: t });
          this.throwInto(gt, err);
        }
        break;
      case TimerKind.Call:
        t.fn!();
        break;
    }
  }

  /** Runs gt until it suspends or ends. Re-entrant: kill() resumes a victim from inside another. */
  #resume(gt: AnyGreenThread): void {
    const prev = this.current;
    this.current = gt;
    gt.state = State.Running;
    gt.handoff = undefined; // it takes what it was handed now
    gt.switches++;
    const shared = this.shared;
    shared[0] = ++this.#switches;
    shared[1] = gt.id;
    const t0 = this.accounting ? now() : 0;
    try {
      let r: IteratorResult<unknown, unknown>;
      if (gt.gen === undefined) {
        r = this.#start(gt);
      } else if (gt.resumeError !== NO_ERROR) {
        const err = gt.resumeError;
        gt.resumeError = NO_ERROR;
        r = gt.gen.throw!(err);
      } else {
        r = gt.gen.next(RESUME);
      }
      for (;;) {
        if (r.done) {
          this.#finish(gt, r.value, NO_ERROR);
          break;
        }
        if (r.value !== SUSPEND) {
          r = gt.gen!.throw!(
            new TypeError(`a greenthread yielded ${describeYielded(r.value)}: write \`yield* op\` (with the star) to run a greenhub operation`),
          );
          continue;
        }
        if (gt.pendingKill !== NO_ERROR) {
          const err = gt.pendingKill;
          gt.pendingKill = NO_ERROR;
          this.cancelWait(gt);
          r = gt.gen!.throw!(err);
          continue;
        }
        if (gt.state === State.Running) gt.state = State.Suspended;
        break;
      }
    } catch (err) {
      this.#finish(gt, undefined, err);
    } finally {
      if (t0 !== 0) gt.runTimeMs += now() - t0;
      this.current = prev;
      shared[1] = prev === undefined ? 0 : prev.id;
    }
  }

  #start(gt: AnyGreenThread): IteratorResult<unknown, unknown> {
    const body = gt.body!;
    const args = gt.args!;
    gt.body = undefined;
    gt.args = undefined;
    let it = (body as (...a: unknown[]) => unknown)(...args) as Iterator<unknown, unknown, unknown> | undefined;
    // An operation that is not itself an iterator (serve(...), a GreenThread…): run its iterator.
    if (it !== null && typeof it === 'object' && typeof it.next !== 'function' && typeof (it as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
      it = (it as unknown as Iterable<unknown>)[Symbol.iterator]() as Iterator<unknown, unknown, unknown>;
    }
    if (it === null || typeof it !== 'object' || typeof it.next !== 'function' || typeof it.throw !== 'function') {
      throw new TypeError(
        `spawn's function must return a generator (write it as function* or return one, e.g. () => handle(conn)); "${gt.name}" returned ${describeYielded(it)}`,
      );
    }
    gt.gen = it;
    return it.next();
  }

  #finish(gt: AnyGreenThread, value: unknown, err: unknown): void {
    gt.state = State.Dead;
    gt.gen = undefined;
    gt.parent = undefined;
    gt.body = undefined;
    gt.args = undefined;
    if (gt.waitKind !== Wait.None) this.cancelWait(gt);
    gt.wakeSeq++;
    this.#live.delete(gt);
    if (this.captureSpawnSites) {
      this.#recentlyDead.set(gt.id, { name: gt.name, spawnSite: gt.spawnSite });
      if (this.#recentlyDead.size > 1000) this.#recentlyDead.delete(this.#recentlyDead.keys().next().value!);
    }
    if (err !== NO_ERROR) gt.error = err;
    else gt.result = value;
    if (this.current === gt) this.shared[1] = 0;
    const waiters = gt.waiters;
    if (waiters.length > 0) {
      gt.observed = true;
      gt.waiters = [];
      for (const w of waiters) {
        if (err !== NO_ERROR) this.resumeThrow(w, err);
        else this.resumeWith(w, value);
      }
    }
    if (gt.links.length > 0) {
      const links = gt.links;
      gt.links = [];
      for (const cb of links) {
        try {
          cb(gt);
        } catch (e) {
          this.reportError(e, gt);
        }
      }
    }
    if (gt.settle) gt.settle(gt);
    if (err !== NO_ERROR && !gt.observed && !isGreenletExit(err)) this.#unobserved.push(gt);
  }

  #reportUnobserved(): void {
    const list = this.#unobserved;
    this.#unobserved = [];
    for (const gt of list) if (!gt.observed) this.reportError(gt.error, gt);
  }

  /** Back to Node's loop: arm the earliest deadline, set what holds the process open. */
  #park(): void {
    if (this.#hasRunnable()) this.wakeup();
    const t = this.#timers.peek();
    if (t !== undefined) {
      // libuv's timer runs on a cached clock and may fire early: round up, and the turn checks
      // the hub's own clock before firing anything. A timer already due (the slice ended first)
      // goes through the immediate: a 0 ms loop timer re-armed from its own callback would run
      // again in the same pass of libuv's timers.
      const ms = Math.ceil(t.deadline - now());
      if (ms <= 0) this.wakeup();
      this.poller.armTimer(Math.max(1, ms), this.#timers.refCount > 0);
    } else {
      this.poller.disarmTimer();
    }
    const ref = this.#refFdWaiters > 0;
    if (ref !== this.#pollRefed) {
      this.#pollRefed = ref;
      this.poller.setRef(ref);
    }
  }

  #describeWait(gt: AnyGreenThread, t: number): string {
    switch (gt.waitKind) {
      case Wait.Yield:
        return 'the yield lane';
      case Wait.Timer:
        return gt.waitTimer ? `timer until +${(gt.waitTimer.deadline - t).toFixed(1)} ms` : 'a timer';
      case Wait.FdRead:
        return `fd ${gt.waitFd} for read`;
      case Wait.FdWrite:
        return `fd ${gt.waitFd} for write`;
      case Wait.Promise:
        return 'a promise';
      case Wait.GreenThread: {
        const o = gt.waitObj as AnyGreenThread;
        return `greenthread ${o.id} (${o.name})`;
      }
      case Wait.Custom:
        return (gt.waitObj as Waitable).describeWait(gt);
      default:
        return 'nothing (suspended)';
    }
  }
}

/** greenhub's own sources (lib/ or dist/), left out of spawn sites. */
const OWN_DIR = path.resolve(__dirname, '..');

function captureSite(): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  Error.captureStackTrace(holder, captureSite);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? '').split('\n').slice(1);
  const user = lines.filter((l) => !l.includes(OWN_DIR) && !l.includes('(<anonymous>)') && !l.includes('node:internal'));
  return (user.length > 0 ? user : lines).slice(0, 8).join('\n') || undefined;
}

/** @internal Whether a stack frame's file is greenhub's own. */
export function isOwnFile(url: string): boolean {
  return url.startsWith(OWN_DIR) || url.startsWith(`file://${OWN_DIR}`);
}

const HUB_KEY = Symbol.for('greenhub.hub');

/**
 * The hub of this JS thread, created on first use. Kept on `globalThis` under
 * `Symbol.for('greenhub.hub')`, so two copies of greenhub in one thread share it; each worker
 * thread has its own.
 *
 * @example
 * ```ts
 * import { getHub } from 'greenhub';
 * const { greenthreads, switches } = getHub().stats();
 * ```
 */
export function getHub(): Hub {
  return cachedHub ?? (cachedHub = findOrCreateHub());
}

/** This module copy's reference to the thread's hub (a module copy lives in one thread). */
let cachedHub: Hub | undefined;

function findOrCreateHub(): Hub {
  const g = globalThis as unknown as Record<symbol, Hub | undefined>;
  let hub = g[HUB_KEY];
  if (hub === undefined) {
    hub = new Hub();
    Object.defineProperty(globalThis, HUB_KEY, { value: hub, configurable: true, enumerable: false, writable: false });
  }
  return hub;
}
