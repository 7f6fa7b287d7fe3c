/**
 * GreenIterator: what `imap`, `imapUnordered`, `starmap` and `GreenPile` return; and how the
 * first three read their input.
 */
import type { Green, Operation } from '../types';
import { waitFor } from '../wait-for';

/**
 * An iterator whose `next()` is an operation: `yield* it.next()` inside a greenthread, or
 * `for await (const x of it)` from async code. Input is read lazily and at most the pool's
 * size of results are buffered (`buffered` says how many are).
 *
 * @example
 * ```ts
 * const it = pool.imap(fetchPage, urls);
 * for (;;) {
 *   const r = yield* it.next();
 *   if (r.done) break;
 *   console.log(r.value);
 * }
 * // or, from async code:
 * for await (const page of pool.imap(fetchPage, urls)) console.log(page);
 * ```
 */
export interface GreenIterator<T> extends AsyncIterable<T> {
  /**
   * The next result. A job that failed throws its error at its place (in input order for imap
   * and GreenPile, finishing order for imapUnordered); the next call goes on with the results
   * after it.
   */
  next(): Operation<IteratorResult<T, undefined>>;
  /** Results finished and not yet taken. */
  readonly buffered: number;
  /** Stops early: kills the feeder and the jobs still running. */
  close(): void;
}

/**
 * What imap, imapUnordered and starmap read: an iterable, or an async iterable (a Node stream,
 * an async generator), read one item at a time as the pool has room.
 *
 * @example
 * ```ts
 * const lines: AnyIterable<string> = readline.createInterface({ input: fs.createReadStream(path) });
 * ```
 */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;

/** @internal Whether v can be read as an input (strings are iterable too). */
export function isAnyIterable(v: unknown): v is AnyIterable<unknown> {
  if (typeof v === 'string') return true;
  if (v === null || typeof v !== 'object') return false;
  return typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function' || typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * @internal One input, read lazily inside a greenthread: a sync iterator directly, an async one
 * through waitFor (a kill abandons the pending next()). Sync iteration wins when both exist.
 */
export class InputReader<T> {
  readonly #it: Iterator<T> | AsyncIterator<T>;
  readonly #async: boolean;
  #done = false;

  constructor(source: AnyIterable<T>) {
    const sync = (source as Iterable<T>)[Symbol.iterator];
    this.#async = typeof sync !== 'function';
    this.#it = this.#async ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : sync.call(source);
  }

  *next(): Green<IteratorResult<T>> {
    const step = this.#async ? yield* waitFor((this.#it as AsyncIterator<T>).next()) : (this.#it as Iterator<T>).next();
    if (step.done) this.#done = true;
    return step;
  }

  /** Stopped early (the shortest input ended, or the iterator was closed): tell it, as for...of would. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      const r = this.#it.return?.();
      if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {});
    } catch {
      // an input's return() that throws has nothing left to tell us
    }
  }
}
