/**
 * GreenPool: at most `size` greenthreads at once (eventlet's GreenPool).
 */
import { GreenletExit, isGreenletExit } from '../errors';
import { type AnyGreenThread, type GreenThread, NO_ERROR } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import type { GreenIterator } from './green-iterator';
import { spawn } from '../spawn';
import type { Body, Green, Operation } from '../types';
import { describeValue, validateFunction, validateInt } from '../validate';
import { WaitList } from './wait-list';


/** Calls cb when gt ends, without counting as observing its error (link() would). */
function onEnd(gt: AnyGreenThread, cb: () => void): void {
  if (gt.dead) cb();
  else gt.links.push(cb);
}

/**
 * A pool of at most `size` running greenthreads. `spawn` waits while the pool is full.
 *
 * @example
 * ```ts
 * const pool = new GreenPool(100);
 * for (const url of urls) yield* pool.spawnN(fetchAndStore, url);
 * yield* pool.waitAll();
 * ```
 */
export class GreenPool {
  #size: number;
  readonly #running = new Set<AnyGreenThread>();
  /** Slots promised to woken spawners that have not resumed yet. */
  #reserved = 0;
  readonly #slotWaiters: WaitList;
  readonly #idleWaiters = new WaitList('GreenPool.waitAll()');

  constructor(size = 1000) {
    this.#size = validateInt(size, 'size', 0, Number.MAX_SAFE_INTEGER);
    // A spawner killed after it was promised a slot gives the slot back.
    this.#slotWaiters = new WaitList('GreenPool.spawn()', () => {
      this.#reserved--;
      this.#grant();
      this.#checkIdle();
    });
  }

  /** The pool's size. */
  get size(): number {
    return this.#size;
  }

  /** Greenthreads running in the pool. */
  running(): number {
    return this.#running.size;
  }

  /** Slots free now. */
  free(): number {
    return Math.max(0, this.#size - this.#running.size - this.#reserved);
  }

  /** Greenthreads waiting in spawn() for a slot. */
  waiting(): number {
    return this.#slotWaiters.length;
  }

  /** Changes the size; a larger pool lets waiting spawners in at once. */
  resize(size: number): void {
    this.#size = validateInt(size, 'size', 0, Number.MAX_SAFE_INTEGER);
    this.#grant();
  }

  #checkIdle(): void {
    if (this.#running.size === 0 && this.#reserved === 0) this.#idleWaiters.wakeAll(undefined);
  }

  #grant(): void {
    while (this.free() > 0 && this.#slotWaiters.length > 0) {
      this.#reserved++;
      this.#slotWaiters.wakeFirst(true);
    }
  }

  *#slot(): Green<void> {
    if (this.free() > 0 && this.#slotWaiters.length === 0) return;
    yield* this.#slotWaiters.wait(undefined, -1);
    this.#reserved--; // the slot promised to us is ours now
  }

  #start<A extends unknown[], T>(fn: Body<A, T>, args: A): GreenThread<T> {
    const gt = spawn(fn, ...args);
    this.#running.add(gt);
    onEnd(gt, () => {
      this.#running.delete(gt);
      this.#grant();
      this.#checkIdle();
    });
    return gt;
  }

  /**
   * Starts fn(...args) in the pool, waiting while it is full; returns its GreenThread.
   *
   * @example
   * ```ts
   * const gt = yield* pool.spawn(fetch, url);
   * const page = yield* gt.wait();
   * ```
   */
  spawn<A extends unknown[], T>(fn: Body<A, T>, ...args: A): Operation<GreenThread<T>> {
    validateFunction(fn, 'fn');
    getHub().requireCurrent('GreenPool.spawn()');
    return this.#spawnOp(fn, args);
  }

  *#spawnOp<A extends unknown[], T>(fn: Body<A, T>, args: A): Green<GreenThread<T>> {
    yield* this.#slot();
    return this.#start(fn, args);
  }

  /**
   * Like spawn, for fire-and-forget jobs: returns nothing (an uncaught error goes to the hub's
   * error handler).
   *
   * @example
   * ```ts
   * yield* pool.spawnN(handle, conn);
   * ```
   */
  spawnN<A extends unknown[]>(fn: Body<A, unknown>, ...args: A): Operation<void> {
    validateFunction(fn, 'fn');
    getHub().requireCurrent('GreenPool.spawnN()');
    return this.#spawnNOp(fn, args);
  }

  *#spawnNOp<A extends unknown[]>(fn: Body<A, unknown>, args: A): Green<void> {
    yield* this.#slot();
    this.#start(fn, args);
  }

  /**
   * Waits until no greenthread runs in the pool.
   *
   * @example
   * ```ts
   * yield* pool.waitAll();
   * ```
   */
  waitAll(): Operation<void> {
    getHub().requireCurrent('GreenPool.waitAll()');
    return this.#waitAllOp();
  }

  *#waitAllOp(): Green<void> {
    while (this.#running.size > 0 || this.#reserved > 0 || this.#slotWaiters.length > 0) {
      yield* this.#idleWaiters.wait(undefined, -1);
    }
  }

  /**
   * Runs fn(item) for each item in the pool and yields the results in input order. The input
   * is read lazily, and at most `size` results are in flight or buffered at once.
   *
   * @example
   * ```ts
   * const sizes = pool.imap(function* (url: string) { return (yield* fetch(url)).length; }, urls);
   * ```
   */
  imap<I, R>(fn: Body<[I], R>, input: Iterable<I>): GreenIterator<R> {
    return new MapIterator(this, fn, input, 'input order');
  }

  /** Like imap, but yields results as they finish. */
  imapUnordered<I, R>(fn: Body<[I], R>, input: Iterable<I>): GreenIterator<R> {
    return new MapIterator(this, fn, input, 'finishing order');
  }

  /** @internal */
  startIn<A extends unknown[], T>(fn: Body<A, T>, args: A): Operation<GreenThread<T>> {
    return this.#startInOp(fn, args);
  }

  *#startInOp<A extends unknown[], T>(fn: Body<A, T>, args: A): Green<GreenThread<T>> {
    yield* this.#slot();
    return this.#start(fn, args);
  }
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** The engine of imap / imapUnordered. */
class MapIterator<I, R> implements GreenIterator<R> {
  readonly #pool: GreenPool;
  readonly #fn: Body<[I], R>;
  readonly #ordered: boolean;
  #input: Iterator<I> | undefined;
  readonly #inputSource: Iterable<I>;
  #started = 0;
  #consumed = 0;
  #inputDone = false;
  #inputError: { error: unknown } | undefined;
  #closed = false;
  /** Ordered: results by index. Unordered: results in finishing order. */
  readonly #byIndex = new Map<number, Outcome<R>>();
  readonly #finished: Outcome<R>[] = [];
  readonly #workers = new Set<AnyGreenThread>();
  #feeder: AnyGreenThread | undefined;
  readonly #consumerWaiters = new WaitList('imap next()');
  readonly #feederWaiters = new WaitList('imap input (results not yet taken)');

  constructor(pool: GreenPool, fn: Body<[I], R>, input: Iterable<I>, order: 'input order' | 'finishing order') {
    validateFunction(fn, 'fn');
    if (input === null || typeof input !== 'object' || typeof (input as Iterable<I>)[Symbol.iterator] !== 'function') {
      if (typeof input !== 'string') throw new TypeError(`input must be iterable, got ${describeValue(input)}`);
    }
    this.#pool = pool;
    this.#fn = fn;
    this.#inputSource = input;
    this.#ordered = order === 'input order';
  }

  get buffered(): number {
    return this.#ordered ? this.#byIndex.size : this.#finished.length;
  }

  #ensureFeeder(): void {
    if (this.#feeder !== undefined || this.#closed) return;
    this.#feeder = spawn({ name: 'imap feeder' }, () => this.#feed());
  }

  *#feed(): Green<void> {
    const pool = this.#pool;
    const size = () => Math.max(1, pool.size);
    try {
      this.#input = this.#inputSource[Symbol.iterator]();
      for (;;) {
        // At most `size` items started and not yet taken by the consumer.
        while (this.#started - this.#consumed >= size()) yield* this.#feederWaiters.wait(undefined, -1);
        const step = this.#input.next();
        if (step.done) break;
        const index = this.#started++;
        const item = step.value;
        const gt = yield* pool.startIn(this.#fn, [item] as [I]);
        this.#workers.add(gt);
        // link() marks the error observed: it reaches the consumer at its place instead.
        gt.link(() => {
          this.#workers.delete(gt);
          const outcome: Outcome<R> = gt.error !== NO_ERROR ? { ok: false, error: gt.error } : { ok: true, value: gt.result as R };
          if (this.#ordered) this.#byIndex.set(index, outcome);
          else this.#finished.push(outcome);
          this.#consumerWaiters.wakeAll(undefined);
        });
      }
    } catch (e) {
      if (!isGreenletExit(e)) this.#inputError = { error: e };
    } finally {
      this.#inputDone = true;
      this.#consumerWaiters.wakeAll(undefined);
    }
  }

  next(): Operation<IteratorResult<R, undefined>> {
    getHub().requireCurrent('GreenIterator.next()');
    return this.#nextOp();
  }

  *#nextOp(): Green<IteratorResult<R, undefined>> {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined };
      this.#ensureFeeder();
      let outcome: Outcome<R> | undefined;
      if (this.#ordered) {
        outcome = this.#byIndex.get(this.#consumed);
        if (outcome !== undefined) this.#byIndex.delete(this.#consumed);
      } else {
        outcome = this.#finished.shift();
      }
      if (outcome !== undefined) {
        this.#consumed++;
        this.#feederWaiters.wakeAll(undefined);
        if (!outcome.ok) {
          this.close();
          throw outcome.error;
        }
        return { done: false, value: outcome.value };
      }
      if (this.#inputDone && this.#consumed === this.#started) {
        if (this.#inputError) {
          const e = this.#inputError.error;
          this.close();
          throw e;
        }
        return { done: true, value: undefined };
      }
      yield* this.#consumerWaiters.wait(undefined, -1);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#feeder?.kill(new GreenletExit('iterator closed'));
    for (const w of [...this.#workers]) w.kill(new GreenletExit('iterator closed'));
    this.#byIndex.clear();
    this.#finished.length = 0;
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    return {
      next: () => Promise.resolve(spawn({ name: 'GreenIterator (async)' }, () => this.next())) as Promise<IteratorResult<R>>,
      return: (value?: unknown) => {
        this.close();
        return Promise.resolve({ done: true, value } as IteratorResult<R>);
      },
    };
  }
}

export { MapIterator };
