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
/**
 * What spawn, pools, piles and scopes run: a function returning a generator (write it as
 * `function*`) or any other operation, called with `args`.
 *
 * @example
 * ```ts
 * const handler: Body<[GreenSocket], void> = function* (conn) { conn.close(); };
 * ```
 */
export type Body<A extends unknown[] = never[], T = unknown> = (...args: A) => Iterator<unknown, T, unknown> | Operation<T>;

/**
 * A greenthread's priority: which lane of the run queue its wake-ups join. `'high'` runs before
 * `'normal'` within a turn; a yield always goes to the back, whatever the priority.
 *
 * @example
 * ```ts
 * const p: Priority = 'high';
 * spawn({ name: 'heartbeat', priority: p }, heartbeat);
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

/**
 * Options of `readUntil` / `readLine`.
 *
 * @example
 * ```ts
 * const line = yield* sock.readLine({ maxBytes: 8 * 1024 });
 * ```
 */
export interface ReadUntilOptions {
  /** Give up with an `ERR_LINE_TOO_LONG` error past this many bytes (default 1 MiB). */
  maxBytes?: number;
}

/**
 * A green byte stream: what `GreenSocket`, `GreenTlsSocket` and `GreenFd` have in common, so
 * code that speaks a protocol can take any of them. Reads share one internal buffer (mix them
 * freely); one reader and one writer at a time.
 *
 * @example
 * ```ts
 * function* echoLines(s: GreenStream): Green<void> {
 *   for (;;) {
 *     const line = yield* s.readLine();
 *     if (line.length === 0) return s.close();
 *     yield* s.sendAll(line);
 *   }
 * }
 * ```
 */
export interface GreenStream {
  /** Up to `max` bytes (default 64 KiB), waiting for at least one; an empty Buffer at end of stream. */
  recv(max?: number): Operation<Buffer>;
  /** Into `buf`; the count, 0 at end of stream. */
  recvInto(buf: Uint8Array): Operation<number>;
  /** Exactly `n` bytes; end of stream first is an `ERR_END_OF_STREAM` error. */
  readExactly(n: number): Operation<Buffer>;
  /** Up to and including `delim`; at end of stream what is left. */
  readUntil(delim: string | Uint8Array, options?: ReadUntilOptions): Operation<Buffer>;
  /** One line, up to and including `'\n'`. */
  readLine(options?: ReadUntilOptions): Operation<Buffer>;
  /** Every byte of `data` (one buffer, each of an array in order, or a string as UTF-8). */
  sendAll(data: string | Uint8Array | readonly Uint8Array[]): Operation<void>;
  /** Closes it (idempotent); blocked callers get the closed error. */
  close(): void;
  /** Whether close() was called. */
  readonly closed: boolean;
}
