/**
 * Semaphore, BoundedSemaphore, Lock and CappedSemaphore.
 *
 * No barging: release() hands the permit straight to the first waiter, so a greenthread that
 * arrives later never overtakes one that waits. A waiter killed after it was handed the permit
 * but before it resumed gives the permit back.
 */
import type { Green, Operation } from '../types';
import { describeValue, timeoutOf, validateInt } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';

/**
 * A counting semaphore: `acquire()` takes a permit, waiting while there is none.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(3);
 * function* limited(): Green<void> {
 *   if (!(yield* slots.acquire({ timeoutMs: 500 }))) return; // gave up
 *   try { yield* work(); } finally { slots.release(); }
 * }
 * ```
 */
export class Semaphore {
  #count: number;
  readonly #waiters: WaitList;

  constructor(value = 1) {
    this.#count = validateInt(value, 'value', 0, Number.MAX_SAFE_INTEGER);
    this.#waiters = new WaitList(`${this.constructor.name}.acquire()`, () => this.#handOn());
  }

  /** Permits available now. */
  get count(): number {
    return this.#count;
  }

  /** Greenthreads waiting in acquire(). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes a permit: returns true, or false once timeoutMs passed without one (0: do not wait).
   *
   * @example
   * ```ts
   * if (yield* sem.acquire({ timeoutMs: 100 })) { try { ... } finally { sem.release(); } }
   * ```
   */
  acquire(options?: { timeoutMs?: number }): Operation<boolean> {
    const timeoutMs = timeoutOf(options, 'acquire options');
    return blocking(this.#acquire(timeoutMs), 'acquire()');
  }

  *#acquire(timeoutMs: number): Green<boolean> {
    if (this.#count > 0 && this.#waiters.length === 0) {
      this.#count--;
      return true;
    }
    if (timeoutMs === 0) return false;
    const r = yield* this.#waiters.waitOrTimeout(undefined, timeoutMs);
    return !r.timedOut;
  }

  /** Returns a permit: to the first waiter if there is one. A plain call. */
  release(): void {
    this.checkRelease(this.#count);
    this.#handOn();
  }

  #handOn(): void {
    if (this.#waiters.wakeFirst(true) === undefined) this.#count++;
  }

  /** @internal BoundedSemaphore refuses a release above its initial value. */
  protected checkRelease(_count: number): void {}

  /**
   * Runs op while holding a permit; releases it when op returns, throws or is killed.
   *
   * @example
   * ```ts
   * const reply = yield* lock.withLock(exchange(sock, request));
   * ```
   */
  withLock<T>(op: Operation<T>): Operation<T> {
    if (op === null || typeof op !== 'object' || typeof (op as Operation<T>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`withLock needs an operation (a generator or other iterable), got ${describeValue(op)}`);
    }
    return blocking(this.#withLock(op), 'withLock()');
  }

  *#withLock<T>(op: Operation<T>): Green<T> {
    yield* this.#acquire(-1);
    try {
      return yield* op;
    } finally {
      this.release();
    }
  }
}

/**
 * A semaphore whose release() above the initial value is an error (it catches a double release).
 *
 * @example
 * ```ts
 * const pool = new BoundedSemaphore(2);
 * pool.release(); // throws: released more often than acquired
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #initial: number;

  constructor(value = 1) {
    super(value);
    this.#initial = value;
  }

  /** @internal */
  protected override checkRelease(count: number): void {
    if (count >= this.#initial) throw new Error(`${this.constructor.name} released too many times (above its initial value ${this.#initial})`);
  }
}

/**
 * A mutual-exclusion lock: a BoundedSemaphore of 1. Releasing an unlocked Lock is an error.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * yield* lock.withLock(updateSharedState());
 * ```
 */
export class Lock extends BoundedSemaphore {
  constructor() {
    super(1);
  }

  /** Whether some greenthread holds it. */
  get locked(): boolean {
    return this.count === 0;
  }
}

/**
 * eventlet's CappedSemaphore: a count that stays within [0, limit] by waiting at both ends.
 * `acquire()` waits while the count is 0; `release()` is an operation too, and waits while
 * the count is at `limit` (a BoundedSemaphore throws there instead). Both ends are strictly FIFO
 * and handed over directly: an acquire wakes the first waiting releaser (its release then
 * completes), a release the first waiting acquirer. A waiter killed after it was handed its turn
 * gives it back (its acquire or release does not count); until it has resumed, the room its
 * turn made is not usable from the other end (a tryRelease right after a release handed to an
 * acquirer returns false), so that a give-back can never push the count outside [0, limit].
 *
 * @example
 * ```ts
 * const credits = new CappedSemaphore(0, 10); // producers wait once 10 credits are banked
 * spawn(function* () { for (;;) { yield* credits.release(); } });
 * spawn(function* () { for (;;) { yield* credits.acquire(); spend(); } });
 * ```
 */
export class CappedSemaphore {
  #count: number;
  readonly limit: number;
  /**
   * Waiters handed their turn that have not resumed: the count moved for them already, but
   * until they resume they may give it back, so the other end must not use that room yet (or
   * a give-back could push the count outside [0, limit]).
   */
  #handedAcquires = 0;
  #handedReleases = 0;
  readonly #acquirers: WaitList;
  readonly #releasers: WaitList;

  constructor(count: number, limit: number) {
    this.#count = validateInt(count, 'count', 0, Number.MAX_SAFE_INTEGER);
    this.limit = validateInt(limit, 'limit', Math.max(1, count), Number.MAX_SAFE_INTEGER);
    // Given back: undo the acquire (or release) that the killed waiter was handed.
    this.#acquirers = new WaitList('CappedSemaphore.acquire()', () => {
      this.#handedAcquires--;
      this.#count++;
      this.#settle();
    });
    this.#releasers = new WaitList('CappedSemaphore.release()', () => {
      this.#handedReleases--;
      this.#count--;
      this.#settle();
    });
  }

  /** The count now (permits an acquire could take). */
  get count(): number {
    return this.#count;
  }

  /** Greenthreads waiting in acquire(). */
  get waiting(): number {
    return this.#acquirers.length;
  }

  /** Greenthreads waiting in release() (the count is at limit). */
  get releasing(): number {
    return this.#releasers.length;
  }

  /**
   * eventlet's `balance`: the count, less the acquirers waiting, plus the releasers waiting.
   *
   * @example
   * ```ts
   * if (sem.balance < 0) console.log(`${-sem.balance} greenthreads wait to acquire`);
   * ```
   */
  get balance(): number {
    return this.#count - this.#acquirers.length + this.#releasers.length;
  }

  /**
   * Takes one from the count: true, or false once timeoutMs passed (0: do not wait).
   *
   * @example
   * ```ts
   * if (yield* sem.acquire({ timeoutMs: 100 })) use();
   * ```
   */
  acquire(options?: { timeoutMs?: number }): Operation<boolean> {
    const timeoutMs = timeoutOf(options, 'acquire options');
    return blocking(this.#wait(-1, timeoutMs), 'CappedSemaphore.acquire()');
  }

  /**
   * Adds one to the count: true, or false once timeoutMs passed while it stayed at limit (0: do
   * not wait). When there is room it releases at the call, so a forgotten `yield*` loses
   * nothing; at limit it waits (FIFO) when run.
   *
   * @example
   * ```ts
   * yield* sem.release(); // waits while the count is at limit
   * ```
   */
  release(options?: { timeoutMs?: number }): Operation<boolean> {
    const timeoutMs = timeoutOf(options, 'release options');
    const state = { done: false };
    const op = blocking(this.#release(state, timeoutMs), 'CappedSemaphore.release()');
    // Tried at the call: `sem.release()` in a finally without its yield* (Semaphore's habit)
    // still releases when there is room; only a release that has to wait needs the yield*.
    state.done = this.#now(1);
    return op;
  }

  *#release(state: { done: boolean }, timeoutMs: number): Green<boolean> {
    return state.done || (yield* this.#wait(1, timeoutMs));
  }

  /** acquire without waiting: whether it took one. A plain call. */
  tryAcquire(): boolean {
    return this.#now(-1);
  }

  /** release without waiting: whether it added one. A plain call. */
  tryRelease(): boolean {
    return this.#now(1);
  }

  #canAcquire(): boolean {
    return this.#count - this.#handedReleases > 0;
  }

  #canRelease(): boolean {
    return this.#count + this.#handedAcquires < this.limit;
  }

  /** Moves the count by delta (-1 acquire, +1 release) if there is room and nobody waits before us. */
  #now(delta: number): boolean {
    const acquire = delta < 0;
    if (acquire ? !this.#canAcquire() || this.#acquirers.length > 0 : !this.#canRelease() || this.#releasers.length > 0) return false;
    this.#count += delta;
    this.#settle();
    return true;
  }

  *#wait(delta: number, timeoutMs: number): Green<boolean> {
    if (this.#now(delta)) return true;
    if (timeoutMs === 0) return false;
    const r = yield* (delta < 0 ? this.#acquirers : this.#releasers).waitOrTimeout(undefined, timeoutMs);
    if (r.timedOut) return false;
    // Resumed: the turn we were handed is final now.
    if (delta < 0) this.#handedAcquires--;
    else this.#handedReleases--;
    this.#settle();
    return true;
  }

  /** Hands the count's room to waiters at either end, one at a time, until neither can move. */
  #settle(): void {
    for (;;) {
      if (this.#acquirers.length > 0 && this.#canAcquire()) {
        this.#count--;
        this.#handedAcquires++;
        this.#acquirers.wakeFirst(true);
      } else if (this.#releasers.length > 0 && this.#canRelease()) {
        this.#count++;
        this.#handedReleases++;
        this.#releasers.wakeFirst(true);
      } else return;
    }
  }
}
