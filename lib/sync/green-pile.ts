/**
 * GreenPile: jobs spawned into a pool, results taken in spawn order (eventlet's GreenPile).
 */
import { type AnyGreenThread } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import type { GreenIterator } from './green-iterator';
import { GreenPool } from './green-pool';
import { spawn } from '../spawn';
import type { Body, Green, Operation } from '../types';
import { describeValue, validateFunction } from '../validate';
import { WaitList } from './wait-list';

/**
 * Spawn jobs, then iterate their results in the order they were spawned. Takes a size (it
 * makes its own GreenPool) or a pool to share.
 *
 * @example
 * ```ts
 * const pile = new GreenPile(10);
 * for (const host of hosts) yield* pile.spawn(ping, host);
 * for (;;) {
 *   const r = yield* pile.next();
 *   if (r.done) break;
 *   console.log(r.value);
 * }
 * ```
 */
export class GreenPile<T = unknown> implements GreenIterator<T> {
  readonly pool: GreenPool;
  readonly #jobs: AnyGreenThread[] = [];
  #next = 0;
  #closed = false;
  readonly #waiters = new WaitList('GreenPile.next()');

  constructor(sizeOrPool: number | GreenPool = 1000) {
    if (sizeOrPool instanceof GreenPool) this.pool = sizeOrPool;
    else if (typeof sizeOrPool === 'number') this.pool = new GreenPool(sizeOrPool);
    else throw new TypeError(`GreenPile needs a size or a GreenPool, got ${describeValue(sizeOrPool)}`);
  }

  /** Jobs finished and not yet taken. */
  get buffered(): number {
    let n = 0;
    for (let i = this.#next; i < this.#jobs.length; i++) if (this.#jobs[i].dead) n++;
    return n;
  }

  /**
   * Starts a job in the pool (waiting while it is full).
   *
   * @example
   * ```ts
   * yield* pile.spawn(fetch, url);
   * ```
   */
  spawn<A extends unknown[]>(fn: Body<A, T>, ...args: A): Operation<void> {
    validateFunction(fn, 'fn');
    getHub().requireCurrent('GreenPile.spawn()');
    return this.#spawnOp(fn, args);
  }

  *#spawnOp<A extends unknown[]>(fn: Body<A, T>, args: A): Green<void> {
    // The pool bounds the jobs running at once. Finished results wait here until taken: the
    // caller decides how many jobs it spawns before it reads (bounding that too would deadlock
    // eventlet's usual "spawn them all, then iterate"); imap reads its input lazily instead.
    const gt = yield* this.pool.spawn(fn, ...args);
    gt.link(() => this.#waiters.wakeAll(undefined)); // observed: its error reaches next()
    this.#jobs.push(gt);
  }

  next(): Operation<IteratorResult<T, undefined>> {
    getHub().requireCurrent('GreenPile.next()');
    return this.#nextOp();
  }

  *#nextOp(): Green<IteratorResult<T, undefined>> {
    if (this.#closed || this.#next >= this.#jobs.length) return { done: true, value: undefined };
    const gt = this.#jobs[this.#next];
    let value: T;
    try {
      value = (yield* gt.wait()) as T;
    } finally {
      if (gt.dead) this.#jobs[this.#next++] = undefined as never;
    }
    return { done: false, value };
  }

  close(): void {
    this.#closed = true;
    for (let i = this.#next; i < this.#jobs.length; i++) this.#jobs[i].kill();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => Promise.resolve(spawn({ name: 'GreenPile (async)' }, () => this.next())) as Promise<IteratorResult<T>>,
      return: (value?: unknown) => {
        this.close();
        return Promise.resolve({ done: true, value } as IteratorResult<T>);
      },
    };
  }
}
