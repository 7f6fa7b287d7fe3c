/**
 * The types users see. greenthreads are generators; a blocking call returns an *operation*
 * that the greenthread runs with `yield*`, and the value of `yield*` is the operation's result.
 */

/**
 * Anything a greenthread can run with `yield*`: an object whose iterator returns a `T`.
 * Every blocking call in greenhub returns one; so does a call to any generator function, and a
 * `GreenThread<T>` is one too (running it waits for the greenthread's result).
 *
 * @example
 * ```ts
 * function* fetchTwice(sock: GreenSocket): Green<Buffer[]> {
 *   const a: Buffer = yield* sock.readLine();
 *   const b: Buffer = yield* sock.readLine();
 *   return [a, b];
 * }
 * const op: Operation<Buffer[]> = fetchTwice(sock);
 * ```
 */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<unknown, T, unknown>;
}

/**
 * The generator type of a greenthread body (or of any function that blocks): `Green<T>` returns
 * a `T`. Write bodies as `function* name(...): Green<T> { ... }`.
 *
 * @example
 * ```ts
 * function* worker(n: number): Green<number> {
 *   yield* sleep(10);
 *   return n * 2;
 * }
 * const gt = spawn(worker, 21); // GreenThread<number>
 * ```
 */
export type Green<T = void> = Generator<unknown, T, unknown>;

/**
 * Wake-up order: `high` greenthreads run before `normal` ones within a turn; a yield always
 * goes to the back.
 *
 * @example
 * ```ts
 * const p: Priority = 'high';
 * spawn({ priority: p }, heartbeat);
 * ```
 */
export type Priority = 'high' | 'normal';

/**
 * Options for `spawn`.
 *
 * @example
 * ```ts
 * spawn({ name: 'heartbeat', priority: 'high' }, heartbeat);
 * ```
 */
export interface SpawnOptions {
  /** Shown in `dump()`, blocking reports and error messages. Default: the function's name. */
  name?: string;
  /** Default `'normal'`. */
  priority?: Priority;
}

/**
 * What `gt.stats` reports. `runTimeMs` grows only while `getHub().accounting` is on.
 *
 * @example
 * ```ts
 * getHub().accounting = true;
 * const { switches, runTimeMs } = gt.stats;
 * ```
 */
export interface GreenThreadStats {
  /** Times the greenthread was resumed. */
  switches: number;
  /** Time spent running, in ms (measured only while accounting is on). */
  runTimeMs: number;
}
