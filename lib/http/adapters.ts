/**
 * Green adapters for Node streams, so an existing Node server can adopt greenhub one route at a
 * time: `greenReader(readable)` gives blocking-style reads over any `stream.Readable` (an
 * `http.IncomingMessage`, a file stream, a PassThrough…) and `greenWriter(writable)` blocking-
 * style writes over any `stream.Writable` or `http.ServerResponse`.
 *
 * The bridge is event-driven, never polled: the stream's 'readable'/'end'/'error'/'close' (or
 * 'drain'/'finish'/'error'/'close') events notify a Wakeup, and the greenthread parked on it
 * looks again. Backpressure is Node's own: the reader calls `readable.read()` only when asked, so
 * the stream buffers no more than its highWaterMark; the writer waits for 'drain' whenever
 * `write()` returned false.
 */
import { Buffer } from 'node:buffer';
import type { OutgoingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { lineTooLongError, type CodedError } from '../errors';
import { getHub } from '../hub/hub';
import { Role } from '../io/role';
import { blocking } from '../operation';
import { Wakeup } from '../sync/wakeup';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateOptions } from '../validate';

const DEFAULT_READ = 64 * 1024;
const DEFAULT_MAX_BYTES = 1 << 20;
const DEFAULT_MAX_LINE = 1 << 20;
const MAX_KEYS = ['maxBytes'] as const;
const NL = 0x0a;

/**
 * Options of `readAll`, `text`, `json` and `readLine` on a `GreenReader`: `maxBytes` bounds what
 * one call may gather (default 1 MiB); past it the call throws an error with a `code`
 * (`ERR_BODY_TOO_LARGE`, or `ERR_LINE_TOO_LONG` for a line).
 *
 * @example
 * ```ts
 * const opts: ReadAllOptions = { maxBytes: 64 * 1024 };
 * const body = yield* greenReader(req).readAll(opts);
 * ```
 */
export interface ReadAllOptions {
  maxBytes?: number;
}

function coded(message: string, code: string): CodedError {
  const err = new Error(message) as CodedError;
  err.code = code;
  return err;
}

/** The error readAll/text/json throw past maxBytes (`code: 'ERR_BODY_TOO_LARGE'`, `maxBytes`). */
function tooLargeError(maxBytes: number): CodedError & { maxBytes: number } {
  const err = coded(`body larger than ${maxBytes} bytes (maxBytes)`, 'ERR_BODY_TOO_LARGE') as CodedError & { maxBytes: number };
  err.maxBytes = maxBytes;
  return err;
}

/** A stream that closed before its end, without an error of its own (Node's code for it). */
function prematureCloseError(what: string): CodedError {
  return coded(`${what} closed before its end`, 'ERR_STREAM_PREMATURE_CLOSE');
}

function maxBytesOf(options: ReadAllOptions | undefined, name: string, fallback: number, min: number): number {
  if (options === undefined) return fallback;
  const o = validateOptions(options, name, MAX_KEYS);
  return o.maxBytes === undefined ? fallback : validateInt(o.maxBytes, 'maxBytes', min, Number.MAX_SAFE_INTEGER);
}

const readers = new WeakMap<Readable, GreenReader>();
const writers = new WeakMap<object, GreenWriter>();

/**
 * Blocking-style reads over a Node `stream.Readable` (what `greenReader` returns). One reader at
 * a time: a second greenthread reading while one waits gets an `ERR_ROLE_TAKEN` error. Errors of
 * the stream are thrown to the reader (once any bytes read before them are handed out); a stream
 * destroyed before its end without an error is `ERR_STREAM_PREMATURE_CLOSE`. The reader takes
 * the stream over (it is switched to paused mode): read it through the reader only. Bound a wait
 * with `withTimeout(ms, r.readAll())`.
 *
 * @example
 * ```ts
 * const r = greenReader(req);
 * for (;;) {
 *   const chunk = yield* r.read();
 *   if (chunk.length === 0) break; // end of the body
 *   hash.update(chunk);
 * }
 * ```
 */
export class GreenReader {
  /** The stream underneath. */
  readonly stream: Readable;
  /** Bytes taken from the stream and not yet handed out. */
  #pending: Buffer | undefined;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  readonly #wake = new Wakeup('greenReader (waiting for the stream)');
  readonly #role = new Role('reader');

  /** @internal use greenReader() */
  constructor(stream: Readable) {
    this.stream = stream;
    const notify = (): void => this.#wake.notify();
    stream.on('readable', notify);
    stream.on('end', () => {
      this.#ended = true;
      notify();
    });
    stream.on('error', (e: Error) => {
      this.#error ??= e;
      notify();
    });
    stream.on('close', () => {
      this.#closed = true;
      notify();
    });
    if (stream.readableEnded) this.#ended = true;
    if (stream.errored) this.#error = stream.errored;
    if (stream.destroyed) this.#closed = true;
  }

  /**
   * Up to max bytes (default 64 KiB), waiting until at least one is there; an empty Buffer at
   * the end of the stream. Pulls from the stream only when called: a reader that stops reading
   * leaves the stream paused at its highWaterMark (backpressure).
   */
  read(max = DEFAULT_READ): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    return blocking(this.#read(max), 'read()');
  }

  /** Every byte to the end of the stream, as one Buffer; more than maxBytes (default 1 MiB) is `ERR_BODY_TOO_LARGE`. */
  readAll(options?: ReadAllOptions): Operation<Buffer> {
    const maxBytes = maxBytesOf(options, 'readAll options', DEFAULT_MAX_BYTES, 0);
    return blocking(this.#readAll(maxBytes), 'readAll()');
  }

  /** One line, up to and including '\n'; at the end what is left (empty at the end); a line longer than maxBytes (default 1 MiB) is `ERR_LINE_TOO_LONG`. */
  readLine(options?: ReadAllOptions): Operation<Buffer> {
    const maxBytes = maxBytesOf(options, 'readLine options', DEFAULT_MAX_LINE, 1);
    return blocking(this.#readLine(maxBytes), 'readLine()');
  }

  /** readAll() decoded as UTF-8. */
  text(options?: ReadAllOptions): Operation<string> {
    const maxBytes = maxBytesOf(options, 'text options', DEFAULT_MAX_BYTES, 0);
    return blocking(this.#text(maxBytes), 'text()');
  }

  /** readAll() parsed as JSON (a SyntaxError if it is not). */
  json<T = unknown>(options?: ReadAllOptions): Operation<T> {
    const maxBytes = maxBytesOf(options, 'json options', DEFAULT_MAX_BYTES, 0);
    return blocking(this.#json<T>(maxBytes), 'json()');
  }

  *#text(maxBytes: number): Green<string> {
    return (yield* this.#readAll(maxBytes)).toString('utf8');
  }

  *#json<T>(maxBytes: number): Green<T> {
    return JSON.parse((yield* this.#readAll(maxBytes)).toString('utf8')) as T;
  }

  #enter(): ReturnType<Role['take']> {
    return this.#role.take(getHub().requireCurrent('greenReader'), 'greenReader');
  }

  /** The next chunk (pending bytes first), null at the end, undefined when the stream has none yet; throws the stream's error. */
  #pull(): Buffer | null | undefined {
    const p = this.#pending;
    if (p !== undefined) {
      this.#pending = undefined;
      return p;
    }
    const c = this.stream.read() as Buffer | string | null;
    if (c !== null) return typeof c === 'string' ? Buffer.from(c) : c;
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended || this.stream.readableEnded) return null;
    if (this.#closed || this.stream.destroyed) throw this.stream.errored ?? prematureCloseError('stream');
    return undefined;
  }

  /** The next non-empty chunk, waiting for it; null at the end. */
  *#next(): Green<Buffer | null> {
    for (;;) {
      const c = this.#pull();
      if (c === null) return null;
      if (c !== undefined && c.length > 0) return c;
      if (c === undefined) yield* this.#wake.wait();
    }
  }

  *#read(max: number): Green<Buffer> {
    const prev = this.#enter();
    try {
      const c = yield* this.#next();
      if (c === null) return Buffer.alloc(0);
      if (c.length > max) {
        this.#pending = c.subarray(max);
        return c.subarray(0, max);
      }
      return c;
    } finally {
      this.#role.give(prev);
    }
  }

  *#readAll(maxBytes: number): Green<Buffer> {
    const prev = this.#enter();
    try {
      const parts: Buffer[] = [];
      let total = 0;
      for (;;) {
        const c = yield* this.#next();
        if (c === null) return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
        total += c.length;
        if (total > maxBytes) throw tooLargeError(maxBytes);
        parts.push(c);
      }
    } finally {
      this.#role.give(prev);
    }
  }

  *#readLine(maxBytes: number): Green<Buffer> {
    const prev = this.#enter();
    const parts: Buffer[] = [];
    let total = 0;
    let done = false;
    try {
      for (;;) {
        const c = yield* this.#next();
        if (c === null) {
          done = true;
          return Buffer.concat(parts, total);
        }
        const i = c.indexOf(NL);
        if (i >= 0) {
          const len = total + i + 1;
          // Keep the bytes after the line; a line too long keeps everything (nothing is lost).
          if (len > maxBytes) {
            parts.push(c);
            total += c.length;
            throw lineTooLongError(maxBytes);
          }
          if (i + 1 < c.length) this.#pending = c.subarray(i + 1);
          parts.push(c.subarray(0, i + 1));
          done = true;
          return parts.length === 1 ? parts[0]! : Buffer.concat(parts, len);
        }
        parts.push(c);
        total += c.length;
        // No newline within maxBytes: the line will be longer than maxBytes.
        if (total >= maxBytes) throw lineTooLongError(maxBytes);
      }
    } finally {
      // Interrupted (an error, a kill, a timeout): what was gathered is read again next time.
      if (!done && total > 0) this.#pending = Buffer.concat(this.#pending === undefined ? parts : [...parts, this.#pending]);
      this.#role.give(prev);
    }
  }
}

/**
 * Blocking-style reads over a Node `stream.Readable`: `yield* r.read(max?)` (an empty Buffer at
 * the end), `r.readAll({ maxBytes })`, `r.readLine({ maxBytes })`, `r.text()`, `r.json()`. Any
 * readable works: an `http.IncomingMessage` (a request body, a client's response), a file
 * stream, a PassThrough. The same stream always gets the same reader. See `GreenReader`.
 *
 * @example
 * ```ts
 * http.createServer((req, res) => {
 *   spawn(function* () {
 *     const body = yield* greenReader(req).json({ maxBytes: 64 * 1024 });
 *     yield* greenWriter(res).end(JSON.stringify({ got: body }));
 *   });
 * });
 * ```
 */
export function greenReader(readable: Readable): GreenReader {
  if (readable === null || typeof readable !== 'object' || typeof (readable as { read?: unknown }).read !== 'function' || typeof (readable as { on?: unknown }).on !== 'function') {
    throw new TypeError(`readable must be a stream.Readable, got ${describeValue(readable)}`);
  }
  if (readable.readableObjectMode) throw new TypeError('readable must be a byte stream, got one in object mode');
  let r = readers.get(readable);
  if (r === undefined) {
    r = new GreenReader(readable);
    readers.set(readable, r);
  }
  return r;
}

/** What GreenWriter uses of a Writable or an http.OutgoingMessage (ServerResponse). */
interface WritableLike {
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(cb?: () => void): unknown;
  end(chunk: string | Uint8Array, cb?: () => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  readonly errored?: Error | null;
}

/**
 * Blocking-style writes over a Node `stream.Writable` or `http.ServerResponse` (what
 * `greenWriter` returns). `write` waits for 'drain' whenever the stream's buffer is full (Node's
 * `write()` returned false), so a slow peer slows the writer instead of growing memory; `end`
 * waits for 'finish' (every byte handed to the system). Errors of the stream are thrown to the
 * writer; a stream destroyed before 'finish' without an error is `ERR_STREAM_PREMATURE_CLOSE`.
 *
 * @example
 * ```ts
 * const w = greenWriter(res);
 * for (const row of rows) yield* w.write(JSON.stringify(row) + '\n'); // waits while the client is slow
 * yield* w.end();
 * ```
 */
export class GreenWriter {
  /** The stream underneath. */
  readonly stream: Writable | OutgoingMessage;
  readonly #w: WritableLike;
  #error: Error | undefined;
  #closed = false;
  readonly #wake = new Wakeup('greenWriter (waiting for drain or finish)');

  /** @internal use greenWriter() */
  constructor(stream: Writable | OutgoingMessage) {
    this.stream = stream;
    const w = (this.#w = stream as unknown as WritableLike);
    const notify = (): void => this.#wake.notify();
    w.on('drain', notify);
    w.on('finish', notify);
    w.on('error', (e: Error) => {
      this.#error ??= e;
      notify();
    });
    w.on('close', () => {
      this.#closed = true;
      notify();
    });
    if (w.errored) this.#error = w.errored;
  }

  /** Writes chunk (a string as UTF-8, or bytes); waits for 'drain' when the stream's buffer is full. */
  write(chunk: string | Uint8Array): Operation<void> {
    validateChunk(chunk, 'chunk');
    return blocking(this.#write(chunk), 'write()');
  }

  /** Writes chunk if given, ends the stream, and waits for 'finish'. Ending an ended stream just waits. */
  end(chunk?: string | Uint8Array): Operation<void> {
    if (chunk !== undefined) validateChunk(chunk, 'chunk');
    return blocking(this.#end(chunk), 'end()');
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
    const w = this.#w;
    if (w.errored) throw w.errored;
    if (w.destroyed || this.#closed) {
      if (w.writableFinished) throw coded('write after the stream finished', 'ERR_STREAM_WRITE_AFTER_END');
      throw prematureCloseError('writable stream');
    }
  }

  *#write(chunk: string | Uint8Array): Green<void> {
    this.#check();
    const w = this.#w;
    if (w.writableEnded) throw coded('write after end()', 'ERR_STREAM_WRITE_AFTER_END');
    if (w.write(chunk)) return;
    while (w.writableNeedDrain) {
      this.#check();
      yield* this.#wake.wait();
    }
    this.#check();
  }

  *#end(chunk: string | Uint8Array | undefined): Green<void> {
    const w = this.#w;
    if (w.writableFinished) {
      if (chunk !== undefined) throw coded('write after end()', 'ERR_STREAM_WRITE_AFTER_END');
      return;
    }
    this.#check();
    if (!w.writableEnded) {
      if (chunk === undefined) w.end();
      else w.end(chunk);
    } else if (chunk !== undefined) {
      throw coded('write after end()', 'ERR_STREAM_WRITE_AFTER_END');
    }
    while (!w.writableFinished) {
      if (this.#error !== undefined) throw this.#error;
      if (w.errored) throw w.errored;
      if (w.destroyed || this.#closed) throw prematureCloseError('writable stream');
      yield* this.#wake.wait();
    }
  }
}

function validateChunk(chunk: unknown, name: string): void {
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) throw new TypeError(`${name} must be a string or Buffer, got ${describeValue(chunk)}`);
}

/**
 * Blocking-style writes over a Node `stream.Writable` or `http.ServerResponse`:
 * `yield* w.write(chunk)` (waits for 'drain' when the stream's buffer is full) and
 * `yield* w.end(chunk?)` (waits for 'finish'). The same stream always gets the same writer. See
 * `GreenWriter`.
 *
 * @example
 * ```ts
 * spawn(function* () {
 *   const w = greenWriter(fs.createWriteStream('out.log'));
 *   for (let i = 0; i < 1e6; i++) yield* w.write(`line ${i}\n`); // memory stays flat
 *   yield* w.end();
 * });
 * ```
 */
export function greenWriter(writable: Writable | OutgoingMessage): GreenWriter {
  if (writable === null || typeof writable !== 'object' || typeof (writable as { write?: unknown }).write !== 'function' || typeof (writable as { end?: unknown }).end !== 'function' || typeof (writable as { on?: unknown }).on !== 'function') {
    throw new TypeError(`writable must be a stream.Writable or http.ServerResponse, got ${describeValue(writable)}`);
  }
  if ((writable as Writable).writableObjectMode) throw new TypeError('writable must be a byte stream, got one in object mode');
  let w = writers.get(writable);
  if (w === undefined) {
    w = new GreenWriter(writable);
    writers.set(writable, w);
  }
  return w;
}
