/**
 * Deadlines: `withTimeout(ms, op)` around one operation, and `timeout(ms)`, eventlet's Timeout
 * object, around a block of a greenthread's code.
 *
 * Both arm one hub timer for the greenthread that starts them (a Timeout timer, "deferrable":
 * timers.ts). When it fires, the error is thrown into that greenthread at its suspension point;
 * if the greenthread was woken but has not resumed yet, it keeps what it was woken with and the
 * error is thrown at its next suspension, so a deadline never lapses. Cancelling the timer also
 * withdraws such a deferred error, so a deadline that did not interrupt anything is never thrown
 * after its block ended.
 */
import { TimeoutError } from '../errors';
import { type AnyGreenThread, NO_ERROR } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { type Timer, TimerKind, isTimeoutOf } from '../hub/timers';
import type { Green, Operation } from '../types';
import { describeValue, validateBoolean, validateMs, validateOptions } from '../validate';
import { blocking } from '../operation';

function checkOperation(op: unknown, what: string): void {
  if (op === null || typeof op !== 'object' || typeof (op as Operation<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${what} needs an operation (a generator or other iterable), got ${describeValue(op)}`);
  }
}

/**
 * Options of {@link withTimeout}.
 *
 * @example
 * ```ts
 * const reply = yield* withTimeout(200, sock.readLine(), { default: null });
 * ```
 */
export interface WithTimeoutOptions<D> {
  /** Returned instead of throwing when (and only when) this call's own deadline fires. */
  default: D;
}

/**
 * Runs op in the calling greenthread; past `ms`, a TimeoutError (`code: 'ETIMEDOUT'`) is thrown
 * into op at its suspension point (its `finally` blocks run). With `{ default }`, the default is
 * returned instead — only for this call's own deadline: an enclosing one's error goes through.
 * A timeout that did not fire leaves no timer behind.
 *
 * @example
 * ```ts
 * try {
 *   const line = yield* withTimeout(1000, sock.readLine());
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log('no answer within 1 s');
 * }
 * const reply = yield* withTimeout(200, sock.readLine(), { default: null }); // null if late
 * ```
 */
export function withTimeout<T>(ms: number, op: Operation<T>): Operation<T>;
export function withTimeout<T, D>(ms: number, op: Operation<T>, options: WithTimeoutOptions<D>): Operation<T | D>;
export function withTimeout<T, D>(ms: number, op: Operation<T>, options?: WithTimeoutOptions<D>): Operation<T | D> {
  validateMs(ms, 'ms');
  checkOperation(op, 'withTimeout');
  const o = validateOptions(options, 'withTimeout options', ['default']);
  const fallback = Object.prototype.hasOwnProperty.call(o, 'default') ? { value: o.default } : undefined;
  return blocking(deadlineOp(ms, op, `operation timed out after ${ms} ms`, fallback), 'withTimeout()');
}

/** @internal withTimeout after its checks; `message` names what timed out. */
export function withTimeoutOp<T>(ms: number, op: Operation<T>, message = `operation timed out after ${ms} ms`): Green<T> {
  return deadlineOp(ms, op, message, undefined);
}

function* deadlineOp<T, D>(ms: number, op: Operation<T>, message: string, fallback: { value: D } | undefined): Green<T | D> {
  const hub = getHub();
  const gt = hub.requireCurrent('withTimeout()');
  const timer = hub.addTimer(TimerKind.Timeout, ms, gt, { ref: true, message });
  timer.deferrable = true;
  try {
    return yield* op;
  } catch (e) {
    if (fallback !== undefined && isTimeoutOf(e, timer)) return fallback.value;
    throw e;
  } finally {
    hub.cancelTimer(timer);
    if (isTimeoutOf(gt.deferredTimeout, timer)) gt.deferredTimeout = NO_ERROR;
  }
}

/**
 * Options of {@link timeout}.
 *
 * @example
 * ```ts
 * class SlowBackend extends Error {}
 * const t = timeout(500, { error: SlowBackend });
 * ```
 */
export interface TimeoutOptions {
  /**
   * Thrown instead of a `TimeoutError` when the deadline passes: an Error class (made with
   * `new error(message)` at that moment) or an instance (thrown as is).
   */
  error?: (new (message: string) => unknown) | object;
  /** `run(op)` returns undefined instead of throwing when this deadline fires. Default false. */
  silent?: boolean;
}

/** Which Timeout made an error (a user's own error instance carries nothing of ours). */
const MADE_BY = new WeakMap<object, Timeout<boolean>>();

/**
 * A deadline started around a block of a greenthread's code: what {@link timeout} returns.
 * It belongs to the greenthread that started it: when it passes, its error (a `TimeoutError`
 * whose `timeout` is this object, or the `error` option's) is thrown into that greenthread at
 * its suspension point — inside `run(op)` or not (then at whatever it waits on; if it was just
 * woken, at its next suspension). `run(op)` and `cancel()` end it; so does the end of its
 * greenthread. No deadline (`ms` null or Infinity) arms no timer.
 *
 * @example
 * ```ts
 * const t = timeout(1000);
 * try {
 *   yield* sock.sendAll(request);
 *   reply = yield* sock.readLine();
 * } catch (e) {
 *   if (!t.isMine(e)) throw e; // an enclosing deadline, or a real error
 *   reply = undefined;
 * } finally {
 *   t.cancel();
 * }
 * ```
 */
export class Timeout<Silent extends boolean = boolean> {
  /** Whether `run(op)` returns undefined (instead of throwing) when this deadline fires. */
  readonly silent: Silent;
  readonly #owner: AnyGreenThread;
  readonly #error: unknown;
  #ms: number | null;
  /** The armed (or fired) timer; undefined with no deadline or once cancelled. */
  #timer: Timer | undefined;
  #cancelled = false;
  /** The error its last firing made (thrown, or waiting for the owner's next suspension). */
  #made: unknown = NO_ERROR;
  /** Whether #endWithOwner is among the owner's links. */
  #linked = false;
  readonly #endWithOwner = (): void => {
    this.#linked = false;
    this.#disarm();
  };
  readonly #makeError = (): unknown => this.#fired();

  /** @internal use timeout() */
  constructor(owner: AnyGreenThread, ms: number | null, error: unknown, silent: Silent) {
    this.#owner = owner;
    this.#ms = ms;
    this.#error = error;
    this.silent = silent;
    this.#arm();
  }

  /** The deadline's length in ms (from its start or last reset), or null for none. */
  get ms(): number | null {
    return this.#ms;
  }

  /** Whether the deadline is armed: started (or reset), not yet fired, not cancelled. */
  get pending(): boolean {
    return this.#timer !== undefined && this.#timer.live;
  }

  /**
   * Runs op under this deadline, in the greenthread that started it, and cancels it when op
   * ends (returns, throws or is killed). Its own deadline throws its error out of `run` — or,
   * when `silent`, makes `run` return undefined. Another greenthread, or a timeout cancelled or
   * already fired and thrown, is an Error: `reset(ms)` re-arms one.
   *
   * @example
   * ```ts
   * const line = yield* timeout(1000).run(sock.readLine());
   * const maybe = yield* timeout(50, { silent: true }).run(q.get()); // undefined if late
   * ```
   */
  run<T>(op: Operation<T>): Operation<Silent extends true ? T | undefined : T> {
    const cur = getHub().requireCurrent('Timeout.run()');
    checkOperation(op, 'Timeout.run()');
    const o = this.#owner;
    if (cur !== o) {
      throw new Error(`a timeout belongs to the greenthread that started it, ${o.id} (${o.name}); greenthread ${cur.id} (${cur.name}) cannot run it: call timeout() in the greenthread that runs the block`);
    }
    if (this.#cancelled) throw new Error('this timeout was cancelled (run() cancels it when it ends): reset(ms) re-arms it, or start a new one');
    if (this.#made !== NO_ERROR && o.deferredTimeout !== this.#made) {
      throw new Error(`this timeout already fired (after ${this.#ms} ms): reset(ms) re-arms it, or start a new one`);
    }
    return blocking(this.#run(op), 'Timeout.run()') as Operation<Silent extends true ? T | undefined : T>;
  }

  *#run<T>(op: Operation<T>): Green<T | undefined> {
    try {
      return yield* op;
    } catch (e) {
      if (this.silent && this.isMine(e)) return undefined;
      throw e;
    } finally {
      this.cancel();
    }
  }

  /**
   * Ends the deadline: its timer goes, and an error it made that still waits for the
   * greenthread's next suspension is withdrawn. After its error was thrown it does nothing
   * more. Idempotent; any code may call it.
   *
   * @example
   * ```ts
   * const t = timeout(100);
   * try { yield* work(); } finally { t.cancel(); }
   * ```
   */
  cancel(): void {
    this.#cancelled = true;
    this.#disarm();
    this.#withdraw();
  }

  /**
   * Re-arms the deadline `ms` from now (default: its current length), whether it is pending,
   * fired or cancelled; an error of the old deadline not yet thrown is withdrawn. `null` or
   * Infinity: no deadline. Its greenthread must still be alive.
   *
   * @example
   * ```ts
   * const idle = timeout(30_000);
   * try {
   *   for (;;) {
   *     const msg = yield* sock.readLine(); // 30 s without a message: TimeoutError
   *     idle.reset();
   *     handle(msg);
   *   }
   * } finally {
   *   idle.cancel();
   * }
   * ```
   */
  reset(ms: number | null = this.#ms): void {
    const length = checkLength(ms);
    const o = this.#owner;
    if (o.dead) throw new Error(`cannot reset a timeout whose greenthread ${o.id} (${o.name}) has ended`);
    this.#disarm();
    this.#withdraw();
    this.#ms = length;
    this.#cancelled = false;
    this.#made = NO_ERROR;
    this.#arm();
  }

  /**
   * Whether err was thrown by this deadline (not by an enclosing one, nor by anything else).
   *
   * @example
   * ```ts
   * catch (e) { if (!t.isMine(e)) throw e; }
   * ```
   */
  isMine(err: unknown): boolean {
    return typeof err === 'object' && err !== null && MADE_BY.get(err) === this;
  }

  toString(): string {
    return `Timeout(${this.#ms === null ? 'none' : `${this.#ms} ms`}, ${this.pending ? 'pending' : 'not pending'})`;
  }

  #arm(): void {
    const ms = this.#ms;
    if (ms === null) return; // no deadline: no timer at all
    const hub = getHub();
    const t = (this.#timer = hub.addTimer(TimerKind.Timeout, ms, this.#owner, { ref: true, message: `timed out after ${ms} ms` }));
    t.deferrable = true;
    t.makeError = this.#makeError;
    if (!this.#linked) {
      // An internal end hook (links), not link(): it does not count as observing an error.
      this.#owner.links.add(this.#endWithOwner);
      this.#linked = true;
    }
  }

  #disarm(): void {
    const t = this.#timer;
    this.#timer = undefined;
    if (t !== undefined && t.live) getHub().cancelTimer(t);
    if (this.#linked) {
      this.#linked = false;
      this.#owner.unlink(this.#endWithOwner);
    }
  }

  /** Takes back an error of this deadline that waits for the greenthread's next suspension. */
  #withdraw(): void {
    if (this.#made !== NO_ERROR && this.#owner.deferredTimeout === this.#made) this.#owner.deferredTimeout = NO_ERROR;
  }

  /** Called by the hub as the deadline fires: the error to throw. */
  #fired(): unknown {
    if (this.#linked) {
      this.#linked = false;
      this.#owner.unlink(this.#endWithOwner);
    }
    const err = makeError(this.#error, this.#timer?.message ?? 'timed out');
    if (err instanceof TimeoutError && typeof this.#error !== 'object') {
      Object.defineProperty(err, 'timeout', { value: this, configurable: true, writable: true });
    }
    if (typeof err === 'object' && err !== null) MADE_BY.set(err, this);
    this.#made = err;
    return err;
  }
}

/** The error a deadline throws: a TimeoutError, `new error(message)`, or the instance itself. */
function makeError(error: unknown, message: string): unknown {
  if (error === undefined) return new TimeoutError(message);
  if (typeof error !== 'function') return error;
  try {
    return new (error as new (m: string) => unknown)(message);
  } catch (e) {
    return e; // thrown into the greenthread, never into the hub's turn
  }
}

function checkLength(ms: unknown): number | null {
  if (ms === null) return null;
  const v = validateMs(ms, 'ms', { allowInfinity: true });
  return v === Infinity ? null : v;
}

function checkError(error: unknown): void {
  if (error === undefined) return;
  const isClass = typeof error === 'function' && typeof (error as { prototype?: unknown }).prototype === 'object';
  if (!isClass && (typeof error !== 'object' || error === null)) {
    throw new TypeError(`timeout option error must be an Error class or an Error instance, got ${describeValue(error)}`);
  }
}

/**
 * Starts a deadline of `ms` milliseconds for the calling greenthread, now (eventlet's
 * `Timeout`); `null` or Infinity means none. Use it as `yield* t.run(op)`, or around a block
 * with `try { … } finally { t.cancel(); }`. When it passes, a `TimeoutError` (with `timeout`
 * set to `t`) — or the `error` option — is thrown into the greenthread at its suspension point;
 * `t.isMine(err)` tells it from an enclosing deadline's. Must be called inside a greenthread.
 * Does not block.
 *
 * @example
 * ```ts
 * const t = timeout(2000);
 * try {
 *   yield* t.run(fetchAll(urls));
 * } catch (e) {
 *   if (!t.isMine(e)) throw e;
 *   console.log('gave up after 2 s');
 * }
 * ```
 */
export function timeout(ms: number | null, options: TimeoutOptions & { silent: true }): Timeout<true>;
export function timeout(ms: number | null, options?: TimeoutOptions & { silent?: false }): Timeout<false>;
export function timeout(ms: number | null, options?: TimeoutOptions): Timeout<boolean>;
export function timeout(ms: number | null, options?: TimeoutOptions): Timeout<boolean> {
  const length = checkLength(ms);
  const o = validateOptions(options, 'timeout options', ['error', 'silent']);
  checkError(o.error);
  const silent = validateBoolean(o.silent, 'timeout option silent', false);
  const owner = getHub().current;
  if (owner === undefined) {
    throw new Error('timeout() must be called inside a greenthread: its deadline is thrown into the greenthread that starts it (spawn one; from async code, use AbortSignal.timeout)');
  }
  return new Timeout(owner, length, o.error, silent);
}
