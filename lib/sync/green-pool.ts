/**
 * GreenPool: at most `size` greenthreads at once (eventlet's GreenPool).
 */
import { GreenletExit, isGreenletExit } from '../errors';
import { type AnyGreenThread, type GreenThread, NO_ERROR } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { type AnyIterable, type GreenIterator, InputReader, isAnyIterable } from './green-iterator';
import { spawn } from '../spawn';
import type { Body, Green, Operation } from '../types';
import { describeValue, validateFunction, validateInt } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';


/** Calls cb when gt ends, without counting as observing its error (link() would). */
function onEnd(gt: AnyGreenThread, cb: () => void): void {
  if (gt.dead) cb();
  else gt.links.add(cb);
}

/**
 * An inline job's caller waited for it, which counts as observing its error; but no user code
 * has seen the error yet. As the hub does for any greenthread, report it unless someone waits
 * for or links the job by the next turn (spawnN's caller never gets the job: always reported).
 */
function reportUnlessObserved(job: AnyGreenThread): void {
  if (job.error === NO_ERROR || isGreenletExit(job.error)) return;
  job.observed = false;
  spawn({ name: `${job.name} (unobserved error check)` }, function* () {
    if (!job.observed) getHub().reportError(job.error, job);
  });
}

/**
 * A pool of at most `size` running greenthreads. `spawn` waits while the pool is full; called
 * from one of the pool's own greenthreads, it runs the job on the caller's slot instead (the
 * caller would otherwise wait for a slot it holds itself).
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

  /**
   * Whether the current greenthread must not wait for a slot: it holds one of the pool's and
   * none is free, so it might wait for itself (a job spawning into its own full pool).
   */
  #mustRunInline(): boolean {
    return this.free() === 0 && this.#running.has(getHub().current!);
  }

  /**
   * Runs a job on the caller's slot (eventlet runs it inline in the caller): the caller waits
   * for it, so the pool still runs at most `size` greenthreads at a time. The job is a
   * greenthread of its own, counted in the pool (its spawns run inline too, waitAll waits for
   * it), so that its error stays its own: run in the caller's stack, it could not be told from
   * a kill or timeout aimed at the caller. Killing the caller kills the job with it.
   */
  *#runOnCallersSlot<A extends unknown[], T>(fn: Body<A, T>, args: A): Green<GreenThread<T>> {
    const job = this.#start(fn, args);
    try {
      yield* job.wait();
    } catch (e) {
      if (!job.dead || e !== job.error) throw e; // aimed at the caller: not the job's outcome
    } finally {
      if (!job.dead) job.kill(); // the caller was killed or timed out: the job goes with it
    }
    reportUnlessObserved(job);
    return job;
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
   * Called from one of the pool's own greenthreads while the pool is full, it does not wait (it
   * would wait for a slot it holds itself, for ever): it runs the job on the caller's slot, the
   * caller waiting, and returns the job's GreenThread already finished. Its error does not
   * propagate to the caller: `wait()` on the GreenThread throws it, and it is reported to the
   * hub's error handler if nobody waits for or links the GreenThread by the next turn.
   *
   * @example
   * ```ts
   * const gt = yield* pool.spawn(fetch, url);
   * const page = yield* gt.wait();
   * // inside a job of a full pool: runs at once, on this job's slot
   * const sub = yield* pool.spawn(fetch, other); // sub.dead === true
   * ```
   */
  spawn<A extends unknown[], T>(fn: Body<A, T>, ...args: A): Operation<GreenThread<T>> {
    validateFunction(fn, 'fn');
    return blocking(this.#spawnOp(fn, args), 'GreenPool.spawn()');
  }

  *#spawnOp<A extends unknown[], T>(fn: Body<A, T>, args: A): Green<GreenThread<T>> {
    if (this.#mustRunInline()) return yield* this.#runOnCallersSlot(fn, args);
    yield* this.#slot();
    return this.#start(fn, args);
  }

  /**
   * Like spawn, for fire-and-forget jobs: returns nothing (an uncaught error goes to the hub's
   * error handler). From one of the pool's own greenthreads while the pool is full, it runs the
   * job on the caller's slot and returns once the job has ended (see spawn); the job's error
   * goes to the hub's error handler, not to the caller.
   *
   * @example
   * ```ts
   * yield* pool.spawnN(handle, conn);
   * ```
   */
  spawnN<A extends unknown[]>(fn: Body<A, unknown>, ...args: A): Operation<void> {
    validateFunction(fn, 'fn');
    return blocking(this.#spawnNOp(fn, args), 'GreenPool.spawnN()');
  }

  *#spawnNOp<A extends unknown[]>(fn: Body<A, unknown>, args: A): Green<void> {
    if (this.#mustRunInline()) {
      yield* this.#runOnCallersSlot(fn, args);
      return;
    }
    yield* this.#slot();
    this.#start(fn, args);
  }

  /**
   * Waits until no greenthread runs in the pool. Called from one of the pool's own greenthreads
   * it throws at once: it would wait for itself for ever.
   *
   * @example
   * ```ts
   * yield* pool.waitAll();
   * ```
   */
  waitAll(): Operation<void> {
    const cur = getHub().requireCurrent('GreenPool.waitAll()');
    if (this.#running.has(cur)) {
      throw new Error(
        `GreenPool.waitAll() called from one of the pool's own greenthreads (${cur.name}) would wait for itself for ever: ` +
          'wait for the jobs it spawned instead (yield* gt.wait(), or a GreenPile), or call waitAll() from outside the pool',
      );
    }
    return this.#waitAllOp();
  }

  *#waitAllOp(): Green<void> {
    while (this.#running.size > 0 || this.#reserved > 0 || this.#slotWaiters.length > 0) {
      yield* this.#idleWaiters.wait(undefined, -1);
    }
  }

  /**
   * Runs fn(item) for each item in the pool and yields the results in input order. The input
   * is read lazily, and at most `size` results are in flight or buffered at once. A failed job
   * does not end the iteration: the `next()` at its place throws its error, and the next
   * `next()` goes on with the result after it. From async code, `for await` stops at that
   * error and never calls `return()`: the iterator closes itself there (its jobs are killed).
   *
   * Given several inputs, fn gets one item of each (`fn(a[i], b[i], …)`) and the iteration
   * stops at the shortest (as eventlet's, and Python's, `imap`); the longer ones are closed.
   * An input may be an async iterable (a stream, an async generator): it is awaited one item at
   * a time. An input that stops early is closed (`return()`), as `for…of` would.
   *
   * @example
   * ```ts
   * const sizes = pool.imap(function* (url: string) { return (yield* fetch(url)).length; }, urls);
   * for (;;) {
   *   let r;
   *   try { r = yield* sizes.next(); } catch (e) { console.log('one failed', e); continue; }
   *   if (r.done) break;
   *   console.log(r.value);
   * }
   * const sums = pool.imap(function* (a: number, b: number) { return a + b; }, [1, 2, 3], [10, 20]); // 11, 22
   * ```
   */
  imap<I, R>(fn: Body<[I], R>, input: AnyIterable<I>): GreenIterator<R>;
  imap<A extends unknown[], R>(fn: Body<A, R>, ...inputs: { [K in keyof A]: AnyIterable<A[K]> }): GreenIterator<R>;
  imap<R>(fn: Body<unknown[], R>, ...inputs: AnyIterable<unknown>[]): GreenIterator<R> {
    return new MapIterator(this, fn, inputs, 'input order', 'zip');
  }

  /**
   * Like imap, but yields results as they finish; a failed job's error is thrown at the place
   * it finished, and iteration goes on after it. Several inputs are zipped as in imap.
   *
   * @example
   * ```ts
   * const it = pool.imapUnordered(ping, hosts);
   * for (;;) {
   *   const r = yield* it.next(); // the fastest first
   *   if (r.done) break;
   *   console.log(r.value);
   * }
   * ```
   */
  imapUnordered<I, R>(fn: Body<[I], R>, input: AnyIterable<I>): GreenIterator<R>;
  imapUnordered<A extends unknown[], R>(fn: Body<A, R>, ...inputs: { [K in keyof A]: AnyIterable<A[K]> }): GreenIterator<R>;
  imapUnordered<R>(fn: Body<unknown[], R>, ...inputs: AnyIterable<unknown>[]): GreenIterator<R> {
    return new MapIterator(this, fn, inputs, 'finishing order', 'zip');
  }

  /**
   * Like imap, but each item of the input is the list of fn's arguments: `fn(...item)`
   * (eventlet's, and itertools', `starmap`). An item that is not iterable ends the iteration
   * with a TypeError, thrown by the `next()` after the results before it.
   *
   * @example
   * ```ts
   * const it = pool.starmap(function* (host: string, port: number) { return yield* probe(host, port); }, [['a', 80], ['b', 443]]);
   * ```
   */
  starmap<A extends unknown[], R>(fn: Body<A, R>, input: AnyIterable<A>): GreenIterator<R> {
    return new MapIterator(this, fn as Body<unknown[], R>, [input], 'input order', 'spread');
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

/** The engine of imap / imapUnordered / starmap. */
class MapIterator<R> implements GreenIterator<R> {
  readonly #pool: GreenPool;
  readonly #fn: Body<unknown[], R>;
  readonly #ordered: boolean;
  /** zip: one item of each input per job; spread: each item of the one input is the argument list. */
  readonly #args: 'zip' | 'spread';
  readonly #inputSources: AnyIterable<unknown>[];
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

  constructor(pool: GreenPool, fn: Body<unknown[], R>, inputs: AnyIterable<unknown>[], order: 'input order' | 'finishing order', args: 'zip' | 'spread') {
    validateFunction(fn, 'fn');
    if (inputs.length === 0) throw new TypeError('imap needs at least one input (an iterable or async iterable), got none');
    inputs.forEach((input, i) => {
      if (!isAnyIterable(input)) throw new TypeError(`input${inputs.length > 1 ? ` ${i + 1}` : ''} must be an iterable or async iterable, got ${describeValue(input)}`);
    });
    this.#pool = pool;
    this.#fn = fn;
    this.#inputSources = inputs;
    this.#ordered = order === 'input order';
    this.#args = args;
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
    const readers: InputReader<unknown>[] = [];
    try {
      for (const source of this.#inputSources) readers.push(new InputReader(source));
      for (;;) {
        // At most `size` items started and not yet taken by the consumer.
        while (this.#started - this.#consumed >= size()) yield* this.#feederWaiters.wait(undefined, -1);
        const args = yield* this.#readArgs(readers);
        if (args === undefined) break;
        const index = this.#started++;
        const gt = yield* pool.startIn(this.#fn, args);
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
      for (const r of readers) r.close(); // the longer inputs of a zip, or all on close()
      this.#inputDone = true;
      this.#consumerWaiters.wakeAll(undefined);
    }
  }

  /** The next job's arguments, or undefined once an input has ended (the shortest, for a zip). */
  *#readArgs(readers: InputReader<unknown>[]): Green<unknown[] | undefined> {
    const args: unknown[] = [];
    for (const reader of readers) {
      const step = yield* reader.next();
      if (step.done) return undefined;
      args.push(step.value);
    }
    if (this.#args === 'zip') return args;
    const item = args[0];
    if (!isAnyIterable(item) || typeof (item as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`starmap: each input item must be an array of arguments, got ${describeValue(item)}`);
    }
    return [...(item as Iterable<unknown>)];
  }

  next(): Operation<IteratorResult<R, undefined>> {
    return blocking(this.#nextOp(), 'GreenIterator.next()');
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
        // A failed job is one result among the others (as in GreenPile): thrown at its place,
        // and the next call goes on.
        if (!outcome.ok) throw outcome.error;
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
      next: () =>
        (Promise.resolve(spawn({ name: 'GreenIterator (async)' }, () => this.next())) as Promise<IteratorResult<R>>).catch((e: unknown) => {
          // for await stops at a rejection and never calls return(): close, or the feeder and
          // the jobs would be left behind.
          this.close();
          throw e;
        }),
      return: (value?: unknown) => {
        this.close();
        return Promise.resolve({ done: true, value } as IteratorResult<R>);
      },
    };
  }
}

export { MapIterator };
