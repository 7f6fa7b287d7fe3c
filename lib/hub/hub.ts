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
 *
 * The parts live beside this file: run-queue.ts, timers.ts (the heap), fd-table.ts (readiness
 * and fd waiters), poller.ts (epoll on Node's loop), greenthread.ts (its state), introspect.ts
 * (dump, stats, spawn sites). This file is the turn and the greenthread lifecycle.
 */
import { isGreenletExit } from '../errors';
import type { Body, Priority } from '../types';
import { validateSliceMs } from '../validate';
import { cleanAsyncContext } from './clean-context';
import { installExitCheck } from './exit-check';
import { FdTable } from './fd-table';
import { killAll, shutdown } from './kill-all';
import { type AnyGreenThread, GreenThread, NO_ERROR, State, Wait, type Waitable, openBody } from './greenthread';
import { RESUME, SUSPEND } from './instructions';
import {
  type ErrorHandler,
  type GreenThreadInfo,
  type HubStats,
  type WarningHandler,
  captureSpawnSite,
  badYieldError,
  infoOf,
  RecentlyDead,
  Reporter,
} from './introspect';
import { HubPoller } from './poller';
import { RunQueue } from './run-queue';
import { Timer, TimerHeap, TimerKind, timeoutErrorOf } from './timers';

// The global `performance` is a lazy getter on globalThis: looked up once here, not per turn.
const clock = performance;
const now = (): number => clock.now();

export type { ErrorHandler, GreenThreadInfo, HubStats, WarningHandler } from './introspect';

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
  /** @internal The greenthread running now (undefined outside any; users call current()). */
  current: AnyGreenThread | undefined;
  /**
   * Longest run before control goes back to Node's loop while work keeps coming, and the
   * threshold of cooperate(). Default 10 ms.
   */
  get timeSliceMs(): number {
    return this.#timeSliceMs;
  }
  set timeSliceMs(ms: number) {
    this.#timeSliceMs = validateSliceMs(ms);
  }
  #timeSliceMs = 10;
  /** Whether the running greenthread's time is measured (off by default: the switch path reads no clock). */
  accounting = false;
  /**
   * Debug mode (also `GREENHUB_DEBUG=1`): operations record where they were created, so a
   * forgotten `yield*` is reported and dump() says where each greenthread waits. Off: no cost.
   */
  debug = process.env.GREENHUB_DEBUG === '1';
  /**
   * @internal A blocking detector is on: spawn sites are captured, and each switch writes
   * `shared` (see watchSwitches).
   */
  captureSpawnSites = false;
  /**
   * @internal Shared with the watchdog worker: [0] switch count, [1] id of the running greenthread
   * (0 = none). Written per switch only while a detector watches: a store to shared memory
   * costs a tenth of a sleep(0) switch, for nobody when no watchdog reads it.
   */
  readonly shared = new Int32Array(new SharedArrayBuffer(16));

  /**
   * @internal A blocking detector starts (+1) or stops (-1) watching the switches. Counted here,
   * on the hub that every copy of greenhub in the thread shares, not per module copy.
   */
  watchSwitches(delta: 1 | -1): void {
    this.#watchers += delta;
    this.captureSpawnSites = this.#watchers > 0;
    // From now on each switch keeps these current; start them from the truth.
    this.shared[0] = this.#switches;
    this.shared[1] = this.current === undefined ? 0 : this.current.id;
  }
  #watchers = 0;

  /** @internal */ readonly poller: HubPoller;
  /** @internal readiness and the fd waiters */ readonly fds: FdTable;
  readonly #high = new RunQueue();
  #normal = new RunQueue();
  #yieldLane = new RunQueue();
  readonly #timers = new TimerHeap();
  #timerSeq = 0;
  #pollRefed = false;
  #inTurns = false;
  /** Inside killAll/shutdown: one recomputation of keep-alive at the end, not one per kill. */
  #batching = false;
  /** The setImmediate that runs the next turns (runnable work waits for it). */
  #immediate: NodeJS.Immediate | undefined;
  readonly #runFromImmediate = (): void => {
    this.#immediate = undefined;
    this.#context.runInAsyncScope(this.#runTurnsNow);
  };
  readonly #runTurnsNow = (): void => this.#runTurns();
  /**
   * A batch of events from Node's loop: dispatched, then the turns run at once. While it is
   * dispatched, what it wakes asks for no setImmediate: the turns follow in this same callback
   * (an immediate per batch would cost an empty turn per wake-up of a one-connection server).
   */
  readonly #onBatch = (n: number): void => {
    this.#dispatching = true;
    try {
      this.poller.dispatch(n);
    } finally {
      this.#dispatching = false;
      this.#runTurns();
    }
  };
  #dispatching = false;
  /** Greenthreads run in this async context, not in whoever woke them (clean-context.ts). */
  readonly #context = cleanAsyncContext();
  #turnStart = now();
  #switches = 0;
  #turns = 0;
  #nextId = 1;
  readonly #live = new Set<AnyGreenThread>();
  #unobserved: AnyGreenThread[] = [];
  readonly #recentlyDead = new RecentlyDead();
  readonly #reporter = new Reporter();

  /** @internal use getHub() */
  constructor() {
    this.poller = new HubPoller((fd, events) => this.fds.onEvent(fd, events));
    this.fds = new FdTable(this, this.poller, () => this.#afterOutsideChange());
    // Attached inside the clean context: the poller's callbacks run in the context they were
    // attached in, whatever AsyncLocalStorage store the code that first touched the hub had.
    this.#context.runInAsyncScope(() => this.poller.attach(this.#onBatch, this.#runTurnsNow));
  }

  // ---------------------------------------------------------------- the turn

  /** Entered from Node's loop (a poll batch or the timer): turns until idle or the slice ends. */
  #runTurns(): void {
    if (this.#inTurns) return;
    this.#inTurns = true;
    const sliceStart = now();
    let t = sliceStart;
    try {
      // One clock read per turn: it dates the turn's timers and checks the slice. (Sharing one
      // read among short turns made sleep(0) ~15 % faster, but a short turn followed by long
      // ones then kept Node's loop waiting several turns past the slice: the slice wins.)
      for (;;) {
        this.#turn(t);
        if (!this.#hasRunnable()) break;
        t = now();
        if (t - sliceStart >= this.#timeSliceMs) break;
      }
    } finally {
      this.#inTurns = false;
      this.#returnToLoop();
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
    // With nothing runnable the hub returns to Node's loop, and libuv's watch on the epoll fd (level-triggered)
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
        // A woken greenthread keeps what it got (one in the yield lane got nothing: interrupt it).
        if (gt && (gt.state === State.Suspended || (gt.state === State.Runnable && gt.waitKind === Wait.Yield))) {
          this.throwInto(gt, timeoutErrorOf(t));
        } else if (gt && t.deferrable && gt.state === State.Runnable) {
          // A block's deadline never lapses: thrown at gt's next suspension; a second one fires again next turn.
          if (gt.deferredTimeout === NO_ERROR) gt.deferredTimeout = timeoutErrorOf(t);
          else this.#timers.push(Object.assign(t, { deadline: this.#turnStart + 1e-3 }));
        }
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
    ++this.#switches;
    const watched = this.captureSpawnSites;
    if (watched) {
      this.shared[0] = this.#switches;
      this.shared[1] = gt.id;
    }
    const t0 = this.accounting ? now() : 0;
    let badYields = 0;
    try {
      let r: IteratorResult<unknown, unknown>;
      if (gt.gen === undefined) {
        r = (gt.gen = openBody(gt)).next();
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
          // `yield op` without the star: thrown into the generator at that yield. One that
          // catches it and yields again would spin the hub for ever: it ends with the error.
          const err = badYieldError(r.value);
          if (badYields++ > 0) {
            this.#finish(gt, undefined, err);
            break;
          }
          r = gt.gen!.throw!(err);
          continue;
        }
        if (gt.pendingKill !== NO_ERROR || gt.deferredTimeout !== NO_ERROR) {
          // A kill first (it supersedes a deferred deadline), else the deadline (#fire).
          const err = gt.pendingKill !== NO_ERROR ? gt.pendingKill : gt.deferredTimeout;
          gt.pendingKill = NO_ERROR;
          gt.deferredTimeout = NO_ERROR;
          this.cancelWait(gt);
          // It stays on the stack: its finally blocks run as Running, wherever it suspended
          // (cancelWait marks a yielder Suspended, and a kill from there would resume it twice).
          gt.state = State.Running;
          r = gt.gen!.throw!(err);
          continue;
        }
        if (gt.state === State.Running) gt.state = State.Suspended;
        if (this.debug) gt.suspendedAt = now();
        break;
      }
    } catch (err) {
      this.#finish(gt, undefined, err);
    } finally {
      if (t0 !== 0) gt.runTimeMs += now() - t0;
      this.current = prev;
      if (watched || this.captureSpawnSites) this.shared[1] = prev === undefined ? 0 : prev.id;
    }
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
    if (this.captureSpawnSites) this.#recentlyDead.remember(gt);
    if (err !== NO_ERROR) gt.error = err;
    else gt.result = value;
    if (this.current === gt) this.shared[1] = 0;
    const waiters = gt.waiters;
    if (waiters !== undefined && waiters.length > 0) {
      gt.observed = true;
      gt.waiters = undefined;
      for (let node = waiters.shift(); node !== undefined; node = waiters.shift()) {
        const w = node.gt!;
        w.waitNode = undefined;
        if (err !== NO_ERROR) this.resumeThrow(w, err);
        else this.resumeWith(w, value);
      }
    }
    if (gt.linkList !== undefined && gt.linkList.size > 0) {
      const links = gt.linkList;
      gt.linkList = undefined;
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
  #returnToLoop(): void {
    if (this.#hasRunnable()) this.wakeup();
    const t = this.#timers.peek();
    if (t !== undefined) {
      // libuv's timer runs on a cached clock and may fire early: round up, and the turn checks
      // the hub's own clock before firing anything. A timer already due (the slice ended first)
      // goes through the immediate: a 0 ms loop timer re-armed from its own callback would run
      // again in the same pass of libuv's timers.
      const ms = Math.ceil(t.deadline - now());
      if (ms <= 0) this.wakeup();
      this.poller.armTimer(Math.max(1, ms), { ref: this.#timers.refCount > 0, deadline: t.deadline });
    } else {
      this.poller.disarmTimer();
    }
    const ref = this.fds.refWaiters > 0;
    if (ref !== this.#pollRefed) {
      this.#pollRefed = ref;
      this.poller.setRef(ref);
    }
  }

  /** @internal Makes sure a turn runs soon (from code outside the hub: a promise, a kill, spawn). */
  wakeup(): void {
    if (this.#inTurns || this.#dispatching || this.#immediate !== undefined) return;
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

  // ---------------------------------------------------------------- greenthreads

  /** @internal */
  spawn<T>(name: string | undefined, priority: Priority, body: Body<never[], T>, args: unknown[], delayMs: number): GreenThread<T> {
    const id = this.#nextId++;
    const site = this.captureSpawnSites ? captureSpawnSite() : undefined;
    const gt = new GreenThread<T>(this, id, name || body.name || `greenthread-${id}`, priority, body, args, site);
    gt.parent = this.current;
    this.#live.add(gt as AnyGreenThread);
    if (delayMs > 0) {
      gt.startTimer = this.addTimer(TimerKind.Start, delayMs, gt as AnyGreenThread, { ref: true });
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
    if (gt.state !== State.Dead) this.#enqueue(gt.setResume(value, NO_ERROR));
  }

  /** @internal Queues gt to have `err` thrown at its suspension point. */
  resumeThrow(gt: AnyGreenThread, err: unknown): void {
    if (gt.state !== State.Dead) this.#enqueue(gt.setResume(undefined, err));
  }

  /** @internal Undoes gt's wait and queues err to be thrown into it (timeouts). */
  throwInto(gt: AnyGreenThread, err: unknown): void {
    if (gt.state === State.Dead || gt.state === State.New) return;
    if (gt.state === State.Running) {
      // On the stack (it caused this itself): thrown at its next suspension.
      if (gt.pendingKill === NO_ERROR) gt.pendingKill = err;
      return;
    }
    gt.giveBackHandoff();
    this.cancelWait(gt);
    this.resumeThrow(gt, err);
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
        gt.deferredTimeout = NO_ERROR; // the kill supersedes a deadline that waits for it to suspend
        gt.giveBackHandoff();
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
        this.fds.drop(gt);
        break;
      case Wait.Promise:
        gt.waitToken++;
        break;
      case Wait.GreenThread: {
        const target = gt.waitObj as AnyGreenThread;
        if (gt.waitNode !== undefined) target.waiters?.remove(gt.waitNode as never);
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
  addTimer(kind: TimerKind, ms: number, gt: AnyGreenThread | undefined, options: { ref: boolean; message?: string; owner?: object }): Timer {
    const t = new Timer(now() + ms, this.#timerSeq++, kind, gt, options.ref, options.message, options.owner);
    this.#timers.push(t);
    // Re-arm the loop timer when this one fires first, or when it is the first to hold the
    // process (the armed one may be an unref'd looping call's, later than this).
    if (!this.#inTurns && (this.#timers.peek() === t || (t.ref && this.#timers.refCount === 1))) this.#returnToLoop();
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
    if (this.#inTurns || this.#batching) return;
    if (this.#unobserved.length > 0) this.wakeup();
    this.#returnToLoop();
  }

  /** @internal */
  setTimerRef(t: Timer, ref: boolean): void {
    this.#timers.setRef(t, ref);
    if (!this.#inTurns) this.#returnToLoop();
  }

  /** @internal sleep(ms) */
  sleepCurrent(gt: AnyGreenThread, ms: number, options: { ref: boolean }): void {
    gt.waitTimer = this.addTimer(TimerKind.Wake, ms, gt, options);
    gt.waitKind = Wait.Timer;
  }

  /** @internal A warning for the warning handler. */
  warn(message: string): void {
    this.#reporter.warn(message);
  }

  /** @internal An error for the error handler (errors of link callbacks, handlers…). */
  reportError(err: unknown, gt: AnyGreenThread): void {
    this.#reporter.error(err, gt);
  }

  // ---------------------------------------------------------------- public

  /** Counters. */
  stats(): HubStats {
    return {
      greenthreads: this.#live.size,
      runnable: this.#high.length + this.#normal.length + this.#yieldLane.length,
      timers: this.#timers.size,
      fdWaiters: this.fds.waiters,
      registeredFds: this.poller.registered,
      switches: this.#switches,
      turns: this.#turns,
      uncaughtErrors: this.#reporter.errors,
    };
  }

  /** Every live greenthread: id, name, state, what it waits on, time run. */
  dump(): GreenThreadInfo[] {
    const t = now();
    return Array.from(this.#live, (gt) => infoOf(gt, t));
  }

  /** Sets the handler of uncaught greenthread errors (null: back to the default, which prints to stderr). */
  onError(handler: ErrorHandler | null): void {
    this.#reporter.onError(handler);
  }

  /** Sets the handler of warnings (looping-call overruns, EMFILE back-off…; null: one line on stderr). */
  onWarning(handler: WarningHandler | null): void {
    this.#reporter.onWarning(handler);
  }

  /** Kills every live greenthread except the caller (from inside a greenthread) with `err`. */
  killAll(err?: unknown): void {
    killAll(this, err);
  }

  /**
   * Kills every greenthread, again and again until none is left, so every `finally` block
   * runs (one that suspends is killed at that suspension in the next round). Called from a
   * greenthread, the caller is killed last, at the call site.
   */
  shutdown(): void {
    shutdown(this);
  }

  /** @internal The live greenthreads, as a list. */
  liveList(): AnyGreenThread[] {
    return [...this.#live];
  }

  /** @internal Kills each; what holds the process is recomputed once, after, not once per kill. */
  killEach(victims: AnyGreenThread[], reason: unknown): void {
    const outer = this.#batching;
    this.#batching = true;
    try {
      for (const gt of victims) this.kill(gt, reason);
    } finally {
      this.#batching = outer;
      if (!outer) this.#afterOutsideChange();
    }
  }

  /** @internal Name and spawn site of a greenthread by id: live, or among those that ended while a detector ran. */
  describeGreenThread(id: number): { name: string; spawnSite?: string } | undefined {
    return this.#recentlyDead.find(id, this.#live);
  }
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
    installExitCheck(hub); // deadlock diagnosis at 'beforeExit'
  }
  return hub;
}
