/**
 * GreenPile: jobs spawned into a pool, results taken in spawn order (eventlet's GreenPile).
 */
import { type AnyGreenThread } from '../hub/greenthread';
import type { GreenIterator } from './green-iterator';
import { GreenPool } from './green-pool';
import { spawn } from '../spawn';
import type { Body, Green, Operation } from '../types';
import { describeValue, validateFunction } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';

/**
 * A job's place in spawn order, taken when spawn is called: the job itself may still wait for
 * a slot in the pool (`gt` undefined), and next() waits for it there rather than end early.
 */
interface Place {
  gt: AnyGreenThread | undefined;
  /** Its spawn was killed (or failed) before the job started: next() skips the place. */
  dropped: boolean;
}

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
  readonly #places: Place[] = [];
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
    for (let i = this.#next; i < this.#places.length; i++) if (this.#places[i].gt?.dead) n++;
    return n;
  }

  /**
   * Starts a job in the pool (waiting while it is full). Its place in the results is taken at
   * once: a next() that reaches it while this spawn still waits for a slot waits for the job.
   *
   * @example
   * ```ts
   * yield* pile.spawn(fetch, url);
   * ```
   */
  spawn<A extends unknown[]>(fn: Body<A, T>, ...args: A): Operation<void> {
    validateFunction(fn, 'fn');
    return blocking(this.#spawnOp(fn, args), 'GreenPile.spawn()');
  }

  *#spawnOp<A extends unknown[]>(fn: Body<A, T>, args: A): Green<void> {
    // The pool bounds the jobs running at once. Finished results wait here until taken: the
    // caller decides how many jobs it spawns before it reads (bounding that too would deadlock
    // eventlet's usual "spawn them all, then iterate"); imap reads its input lazily instead.
    const place: Place = { gt: undefined, dropped: false };
    this.#places.push(place);
    try {
      place.gt = yield* this.pool.spawn(fn, ...args);
    } catch (e) {
      place.dropped = true; // killed (or timed out) waiting for a slot: no job, no result
      throw e;
    } finally {
      this.#waiters.wakeAll(undefined); // a next() may wait for this place
    }
    place.gt.link(() => this.#waiters.wakeAll(undefined)); // observed: its error reaches next()
  }

  /**
   * The next result in spawn order (throws the error of a job that failed, at its place; the
   * next call goes on). Done once every job spawned so far has been taken, and no spawn is
   * still waiting for a slot.
   *
   * @example
   * ```ts
   * for (;;) {
   *   const r = yield* pile.next();
   *   if (r.done) break;
   *   console.log(r.value);
   * }
   * ```
   */
  next(): Operation<IteratorResult<T, undefined>> {
    return blocking(this.#nextOp(), 'GreenPile.next()');
  }

  *#nextOp(): Green<IteratorResult<T, undefined>> {
    for (;;) {
      while (this.#next < this.#places.length && this.#places[this.#next].dropped) this.#advance();
      if (this.#closed || this.#next >= this.#places.length) return { done: true, value: undefined };
      const gt = this.#places[this.#next].gt;
      if (gt === undefined) {
        yield* this.#waiters.wait(undefined, -1); // its spawn still waits for a slot
        continue;
      }
      let value: T;
      try {
        value = (yield* gt.wait()) as T;
      } finally {
        if (gt.dead && this.#places[this.#next]?.gt === gt) this.#advance(); // once, if two next() waited
      }
      return { done: false, value };
    }
  }

  /** Past the place at #next; taken places are dropped now and then (a long-lived pile). */
  #advance(): void {
    this.#places[this.#next++] = undefined as never;
    if (this.#next > 1024 && this.#next * 2 > this.#places.length) {
      this.#places.splice(0, this.#next);
      this.#next = 0;
    }
  }

  close(): void {
    this.#closed = true;
    for (let i = this.#next; i < this.#places.length; i++) this.#places[i].gt?.kill();
    this.#waiters.wakeAll(undefined); // a next() waiting for a spawn still in line: done now
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
