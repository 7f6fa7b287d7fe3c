/**
 * GreenIterator: what `imap`, `imapUnordered` and `GreenPile` return.
 */
import type { Operation } from '../types';

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
