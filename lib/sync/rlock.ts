/**
 * RLock: a lock its owner greenthread may take again (eventlet's, and threading's, RLock).
 *
 * The owner is a greenthread; each acquire by it adds one to a count, each release takes one
 * off, and the lock is free at zero. Waiters are strictly FIFO and handed the lock directly (no
 * barging); one killed after it was handed the lock gives it back.
 *
 * An owner that ends while holding it: eventlet leaves the lock held for ever, and every later
 * acquire hangs with nothing said. Here the lock is released (all its counts), handed to the
 * next waiter, and the hub's warning handler is told which greenthread ended holding it: a bug
 * to fix, but not a silent deadlock.
 */
import type { AnyGreenThread } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { blocking } from '../operation';
import type { Green, Operation } from '../types';
import { describeValue, timeoutOf } from '../validate';
import { WaitList } from './wait-list';

function notOwnerError(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'ERR_RLOCK_NOT_OWNER' });
}

/**
 * A re-entrant lock owned by a greenthread: the owner may acquire it again (and must release
 * it as often); anyone else waits. `release()` by a greenthread that does not hold it is an
 * error (`code: 'ERR_RLOCK_NOT_OWNER'`).
 *
 * @example
 * ```ts
 * const lock = new RLock();
 * function* transfer(): Green<void> {
 *   yield* lock.withLock(audit()); // audit() may take lock too: no deadlock
 * }
 * ```
 */
export class RLock {
  #owner: AnyGreenThread | undefined;
  #count = 0;
  readonly #waiters: WaitList;
  /** On the owner's end hooks while it holds the lock. */
  readonly #onOwnerEnd = (gt: AnyGreenThread): void => {
    if (this.#owner !== gt) return;
    getHub().warn(`RLock released: greenthread ${gt.id} (${gt.name}) ended while holding it (${this.#count} acquire(s) not released)`);
    this.#free();
  };

  constructor() {
    // A waiter handed the lock but killed before it resumed gives it back.
    this.#waiters = new WaitList('RLock.acquire()', (token) => {
      if (this.#owner !== undefined && this.#owner === (token as { gt: AnyGreenThread | undefined }).gt) this.#free();
    });
  }

  /** Whether some greenthread holds it. */
  get locked(): boolean {
    return this.#owner !== undefined;
  }

  /** The holder's acquire count (0 when free). */
  get count(): number {
    return this.#count;
  }

  /** Greenthreads waiting in acquire(). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Whether the current greenthread holds it. */
  ownedByCurrent(): boolean {
    return this.#owner !== undefined && this.#owner === getHub().current;
  }

  /**
   * Takes the lock (again, if the caller holds it): true, or false once timeoutMs passed
   * without it (0: do not wait).
   *
   * @example
   * ```ts
   * if (yield* lock.acquire({ timeoutMs: 100 })) { try { … } finally { lock.release(); } }
   * ```
   */
  acquire(options?: { timeoutMs?: number }): Operation<boolean> {
    const timeoutMs = timeoutOf(options, 'RLock.acquire options');
    return blocking(this.#acquire(timeoutMs), 'RLock.acquire()');
  }

  *#acquire(timeoutMs: number): Green<boolean> {
    const me = getHub().requireCurrent('RLock.acquire()');
    if (this.#owner === me) {
      this.#count++;
      return true;
    }
    if (this.#owner === undefined && this.#waiters.length === 0) {
      this.#take(me);
      return true;
    }
    if (timeoutMs === 0) return false;
    const r = yield* this.#waiters.waitOrTimeout(undefined, timeoutMs);
    return !r.timedOut; // handed over: #handOn made us the owner
  }

  /**
   * Releases one acquire; at zero the lock goes to the first waiter. A plain call; throws
   * `ERR_RLOCK_NOT_OWNER` unless the calling greenthread holds it.
   *
   * @example
   * ```ts
   * lock.release();
   * ```
   */
  release(): void {
    const me = getHub().current;
    if (this.#owner === undefined) throw notOwnerError('RLock.release(): the lock is not held');
    if (this.#owner !== me) {
      const who = me === undefined ? 'code outside any greenthread' : `greenthread ${me.id} (${me.name})`;
      throw notOwnerError(`RLock.release() by ${who}: it is held by greenthread ${this.#owner.id} (${this.#owner.name}); only the owner may release it`);
    }
    if (--this.#count === 0) this.#free();
  }

  /**
   * Runs op holding the lock (re-entrant); releases it when op returns, throws or is killed.
   *
   * @example
   * ```ts
   * const v = yield* lock.withLock(readModifyWrite());
   * ```
   */
  withLock<T>(op: Operation<T>): Operation<T> {
    if (op === null || typeof op !== 'object' || typeof (op as Operation<T>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`withLock needs an operation (a generator or other iterable), got ${describeValue(op)}`);
    }
    return blocking(this.#withLock(op), 'RLock.withLock()');
  }

  *#withLock<T>(op: Operation<T>): Green<T> {
    yield* this.#acquire(-1);
    try {
      return yield* op;
    } finally {
      // Not ours any more only if op released more often than it acquired: that error stands.
      if (this.ownedByCurrent()) this.release();
    }
  }

  #take(gt: AnyGreenThread): void {
    this.#owner = gt;
    this.#count = 1;
    gt.links.add(this.#onOwnerEnd); // an end hook, not link(): it does not observe errors
  }

  /** Frees the lock (every count) and hands it to the first waiter. */
  #free(): void {
    const owner = this.#owner;
    if (owner !== undefined) {
      owner.linkList?.delete(this.#onOwnerEnd);
    }
    this.#owner = undefined;
    this.#count = 0;
    // Handed over: should the waiter die before it resumes, it gives the lock back.
    const token: { gt: AnyGreenThread | undefined } = { gt: undefined };
    const next = this.#waiters.wakeFirst(token);
    if (next === undefined) return;
    token.gt = next;
    this.#take(next);
  }
}
