/**
 * `GreenThread<T>`: a greenthread, the handle `spawn` returns. It is an `Operation<T>` (`yield*
 * gt` waits for it) and a `PromiseLike<T>` (`await gt` from async code).
 *
 * The hub (hub.ts) drives it; this file holds its state and the user-facing methods.
 */
import { GreenletExit } from '../errors';
import type { Body, GreenThreadStats, Operation, Priority } from '../types';
import type { Hub } from './hub';
import { RESUME, SUSPEND_RESULT, done, rejectAwait } from './instructions';
import { validateFunction } from '../validate';
import { describeYielded } from './introspect';
import type { Timer } from './timers';
import { WaitNode, WaitQueue } from './wait-queue';

/** Lifecycle. NEW: spawned, body not started. RUNNABLE: queued. RUNNING: on the stack. */
export enum State {
  New = 0,
  Runnable = 1,
  Running = 2,
  Suspended = 3,
  Dead = 4,
}

/** What a suspended greenthread waits on (for kill, timeouts and dump()). */
export enum Wait {
  None = 0,
  /** In the yield lane or run queue after sleep(0)/cooperate(). */
  Yield = 1,
  /** A sleep timer (`waitTimer`). */
  Timer = 2,
  /** fd `waitFd` readable. */
  FdRead = 3,
  /** fd `waitFd` writable. */
  FdWrite = 4,
  /** A promise (`waitToken` abandons it). */
  Promise = 5,
  /** Another greenthread's end (`waitObj`). */
  GreenThread = 6,
  /** A wait queue of a coordination primitive (`waitObj.cancelWait(gt)`). */
  Custom = 7,
}

/** A structure a greenthread can wait in, other than the hub's own. */
export interface Waitable {
  /** Removes gt from the structure (it was killed or timed out). */
  cancelWait(gt: AnyGreenThread): void;
  /** For dump(): what gt waits on, e.g. "a Queue (3 waiting)". */
  describeWait(gt: AnyGreenThread): string;
}

/** A structure that handed gt a value (a permit, an item) before gt resumed. */
export interface Handoff {
  /** gt was killed before it could take what it was handed: take it back. */
  giveBack(gt: AnyGreenThread, value: unknown): void;
}

/** Marks "no error" (undefined and null are valid things to throw). On Symbol.for: two copies of greenhub share one hub. */
export const NO_ERROR: unique symbol = Symbol.for('greenhub.noError') as never;

/** A greenthread of any result type (the hub does not care). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyGreenThread = GreenThread<any>;


/**
 * A greenthread: what `spawn` returns.
 *
 * @example
 * ```ts
 * const gt = spawn(function* () { yield* sleep(10); return 42; });
 * console.log(await gt);            // 42, from async code
 * // or, inside another greenthread:
 * const v: number = yield* gt.wait();
 * ```
 */
export class GreenThread<T = unknown> implements Operation<T>, PromiseLike<T> {
  readonly id: number;
  readonly name: string;
  readonly priority: Priority;
  /** @internal */ readonly hub: Hub;
  /** @internal where spawn was called, when a blocking detector is on */
  readonly spawnSite: string | undefined;

  /** @internal */ state: State = State.New;
  /** @internal */ gen: Iterator<unknown, T, unknown> | undefined;
  /** @internal */ body: Body<never[], T> | undefined;
  /** @internal */ args: unknown[] | undefined;
  /** @internal */ wakeSeq = 0;
  /** @internal */ resumeValue: unknown = undefined;
  /** @internal */ resumeError: unknown = NO_ERROR;
  /** @internal killed while on the stack: thrown at its next suspension */ pendingKill: unknown = NO_ERROR;
  /** @internal a block's deadline that fired while it was woken (hub #fire): thrown at its next suspension */ deferredTimeout: unknown = NO_ERROR;
  /** @internal */ waitKind: Wait = Wait.None;
  /** @internal */ waitFd = -1;
  /** @internal */ waitRef = true;
  /** @internal */ waitTimer: Timer | undefined;
  /** @internal */ waitObj: Waitable | AnyGreenThread | undefined;
  /** @internal */ waitToken = 0;
  /** @internal */ handoff: Handoff | undefined;
  /** @internal spawnAfter's start timer */ startTimer: Timer | undefined;
  /** @internal its node in the queue it waits in (a WaitList, another's waiters): O(1) removal */ waitNode: WaitNode | undefined;
  /** @internal greenthreads blocked in wait() on this one, FIFO (made on first use: most have none) */ waiters: WaitQueue<WaitOp<T>> | undefined;
  /** @internal link callbacks, in link order (made on first use; a Set, so unlink is O(1)) */ linkList: Set<(gt: GreenThread<T>) => void> | undefined;
  /** @internal */ observed = false;
  /** @internal */ result: T | undefined;
  /** @internal */ error: unknown = NO_ERROR;
  /** @internal */ promise: Promise<T> | undefined;
  /** @internal */ settle: ((gt: GreenThread<T>) => void) | undefined;
  /** @internal the greenthread that spawned this one (for inheriting locals) */ parent: AnyGreenThread | undefined;
  /** @internal greenthread-local values, by local() object */ locals: WeakMap<object, Record<PropertyKey, unknown>> | undefined;
  /** @internal */ switches = 0;
  /** @internal */ runTimeMs = 0;
  /** @internal debug mode: where the operation it is suspended in was created */ opSite: { toString(): string } | undefined;
  /** @internal debug mode: when it last suspended (performance.now()) */ suspendedAt = 0;

  /** @internal use spawn() */
  constructor(hub: Hub, id: number, name: string, priority: Priority, body: Body<never[], T>, args: unknown[], spawnSite: string | undefined) {
    this.hub = hub;
    this.id = id;
    this.name = name;
    this.priority = priority;
    this.body = body;
    this.args = args;
    this.spawnSite = spawnSite;
  }

  /** @internal Sets what its next resume delivers (a value, or an error to throw); its wait is over. */
  setResume(value: unknown, err: unknown): this {
    this.resumeValue = value;
    this.resumeError = err;
    this.waitKind = Wait.None;
    return this;
  }

  /** @internal It was handed a value (a permit, an item) that it will not take: give it back. */
  giveBackHandoff(): void {
    const h = this.handoff;
    if (h !== undefined) {
      this.handoff = undefined;
      h.giveBack(this, this.resumeValue);
    }
  }

  /** made by the `signal` getter, on first use */
  #abortController: AbortController | undefined;

  /**
   * An `AbortSignal` tied to this greenthread's life, for promise code it starts: aborted when
   * the greenthread ends — it returned (reason: an `AbortError` DOMException), threw (that
   * error) or was killed (the kill's error, a `GreenletExit` by default, once its `finally`
   * blocks have run). Made on first use (one `AbortController`, one internal end hook); already
   * aborted if it has ended. A timeout it catches does not end it: to cancel the promise a
   * single wait started, use `waitFor((signal) => …)`, whose signal also aborts on a timeout.
   *
   * @example
   * ```ts
   * spawn(function* poller() {
   *   const { signal } = current()!;
   *   for (;;) {
   *     const status = yield* waitFor(fetch('http://127.0.0.1:8080/status', { signal }).then((r) => r.text()));
   *     console.log(status);
   *     yield* sleep(1000);
   *   }
   * }); // gt.kill() aborts a fetch in flight
   * ```
   */
  get signal(): AbortSignal {
    let c = this.#abortController;
    if (c === undefined) {
      const ac = (c = this.#abortController = new AbortController());
      const abort = (gt: AnyGreenThread): void =>
        ac.abort(gt.error !== NO_ERROR ? gt.error : new DOMException(`greenthread ${gt.id} (${gt.name}) ended`, 'AbortError'));
      // An internal hook (links), not link(): it does not count as observing an error.
      if (this.state === State.Dead) abort(this);
      else this.links.add(abort);
    }
    return c.signal;
  }

  /** Whether it has ended (returned, thrown, or been killed). */
  get dead(): boolean {
    return this.state === State.Dead;
  }

  /** Times resumed, and run time (only measured while `getHub().accounting` is on). */
  get stats(): GreenThreadStats {
    return { switches: this.switches, runTimeMs: this.runTimeMs };
  }

  /**
   * An operation that waits for the end: returns the result, or throws the error it died with
   * (`GreenletExit` if it was killed). A greenthread waiting for itself gets an error at once.
   *
   * @example
   * ```ts
   * const n: number = yield* gt.wait();
   * ```
   */
  wait(): Operation<T> {
    const cur = this.hub.requireCurrent('GreenThread.wait()');
    if (cur === this) throw new Error(`greenthread ${this.id} (${this.name}) cannot wait for itself: it would never wake`);
    return new WaitOp(this);
  }

  [Symbol.iterator](): Iterator<unknown, T, unknown> {
    return this.wait()[Symbol.iterator]();
  }

  /**
   * From async code: `await gt` gives the result or throws the error. Counts as observing an
   * error. Returning a GreenThread from an async function waits for it (it is a thenable).
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true;
    if (!this.promise) {
      this.promise = new Promise<T>((resolve, reject) => {
        this.settle = (gt) => (gt.error !== NO_ERROR ? reject(gt.error) : resolve(gt.result as T));
      });
      if (this.state === State.Dead) this.settle!(this);
    }
    return this.promise.then(onfulfilled, onrejected);
  }

  /**
   * Ends the greenthread with `err` (default `GreenletExit`). Not started: the body never runs.
   * Suspended: err is thrown at its suspension point now, and kill() returns once it next
   * suspends or ends (so `finally` blocks that do not suspend have run). Killing `current()`
   * throws at the call site; a greenthread that is on the stack dies at its next suspension.
   * Dead: nothing.
   *
   * @example
   * ```ts
   * const gt = spawn(function* () { for (;;) yield* sleep(100); });
   * gt.kill();
   * ```
   */
  kill(err: unknown = new GreenletExit()): void {
    this.hub.kill(this, err);
  }

  /** Kills only if the body has not started; returns whether it did. */
  cancel(err: unknown = new GreenletExit()): boolean {
    if (this.state !== State.New) return false;
    this.hub.kill(this, err);
    return true;
  }

  /**
   * Calls `cb(gt)` when it ends (at once if it already has). Counts as observing an error.
   *
   * @example
   * ```ts
   * gt.link((g) => console.log(`${g.name} ended`));
   * ```
   */
  link(cb: (gt: GreenThread<T>) => void): void {
    validateFunction(cb, 'link() callback');
    this.observed = true;
    if (this.state === State.Dead) {
      cb(this);
      return;
    }
    // Linked twice, called twice (as eventlet's list of links): a second registration is a wrapper.
    const links = this.links;
    links.add(links.has(cb) ? (gt: GreenThread<T>) => cb(gt) : cb);
  }

  /** @internal the link callbacks, made on first use (internal hooks push here without observing) */
  get links(): Set<(gt: GreenThread<T>) => void> {
    return (this.linkList ??= new Set());
  }

  /** Removes a callback given to link(); returns whether it was there. */
  unlink(cb: (gt: GreenThread<T>) => void): boolean {
    return this.linkList?.delete(cb) ?? false;
  }

  toString(): string {
    return `GreenThread(${this.id}, ${this.name})`;
  }
}

/** `gt.wait()`: a one-shot iterator (an operation must not be shared between greenthreads). */
class WaitOp<T> extends WaitNode implements Operation<T>, Iterator<unknown, T, unknown> {
  #started = false;
  constructor(readonly target: GreenThread<T>) {
    super();
  }

  /** `await gt.wait()` is a mistake: `await gt` is what async code wants. */
  readonly then = rejectAwait;

  [Symbol.iterator](): Iterator<unknown, T, unknown> {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, T> {
    const target = this.target;
    if (v === RESUME && this.#started) return done(target.hub.current!.resumeValue as T);
    this.#started = true;
    target.observed = true;
    if (target.state === State.Dead) {
      if (target.error !== NO_ERROR) throw target.error;
      return done(target.result as T);
    }
    const cur = target.hub.requireCurrent('GreenThread.wait()');
    if (cur === target) throw new Error(`greenthread ${target.id} (${target.name}) cannot wait for itself: it would never wake`);
    this.gt = cur;
    (target.waiters ??= new WaitQueue<WaitOp<T>>()).push(this);
    cur.waitKind = Wait.GreenThread;
    cur.waitObj = target;
    cur.waitNode = this;
    return SUSPEND_RESULT;
  }

  throw(err: unknown): IteratorResult<unknown, T> {
    throw err;
  }
}


/**
 * Calls gt's body and returns the iterator it runs (the first resume). An operation that is
 * not itself an iterator (serve(...), a GreenThread…) runs its iterator; anything else is a
 * TypeError that says how to write it.
 */
export function openBody(gt: AnyGreenThread): Iterator<unknown, unknown, unknown> {
  const body = gt.body!;
  const args = gt.args!;
  gt.body = undefined;
  gt.args = undefined;
  let it = (body as (...a: unknown[]) => unknown)(...args) as Iterator<unknown, unknown, unknown> | undefined;
  if (it !== null && typeof it === 'object' && typeof it.next !== 'function' && typeof (it as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
    it = (it as unknown as Iterable<unknown>)[Symbol.iterator]() as Iterator<unknown, unknown, unknown>;
  }
  if (it === null || typeof it !== 'object' || typeof it.next !== 'function' || typeof it.throw !== 'function') {
    throw new TypeError(
      `spawn's function must return a generator (write it as function* or return one, e.g. () => handle(conn)); "${gt.name}" returned ${describeYielded(it)}`,
    );
  }
  return it;
}
