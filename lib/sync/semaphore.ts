/**
 * Semaphore, BoundedSemaphore and Lock.
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
