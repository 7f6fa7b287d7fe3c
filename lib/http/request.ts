/**
 * HttpRequest: what serveHttp's handler reads — the parsed head, and the body read
 * blocking-style (Content-Length or chunked, with trailers).
 */
import { Buffer } from 'node:buffer';
import type { GreenSocket } from '../io/socket';
import { blocking } from '../operation';
import type { Green, Operation } from '../types';
import { validateInt } from '../validate';
import { type HeadLimits, parseChunkSize, parseTrailers } from './parser';

/**
 * An HTTP error with the status the server answers with when a handler lets it propagate
 * (before the response head is sent): `req.readAll()` past its limit throws one with 413,
 * `req.json()` on bad JSON one with 400. Throw your own to answer with any status; the
 * connection is closed after it. Such errors are the client's doing: serveHttp does not
 * report them to the hub's error handler.
 *
 * @example
 * ```ts
 * function* handler(req: HttpRequest, res: HttpResponse): Green<void> {
 *   if (req.method !== 'POST') throw new HttpError(405, 'POST only');
 *   yield* res.end(yield* req.text());
 * }
 * ```
 */
export class HttpError extends Error {
  /** The status the server answers with. */
  readonly status: number;
  /** A machine-readable code, e.g. `'ERR_HTTP_BODY_TOO_LARGE'`. */
  readonly code: string;
  constructor(status: number, message: string, code = 'ERR_HTTP') {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** @internal Where a connection is, for the timeout checker. */
export const enum Phase {
  /** Waiting for (or reading) a request head. */
  Head = 0,
  /** The handler runs (no timeout applies). */
  Handler = 1,
  /** The handler waits for request body bytes (the request timeout applies). */
  Body = 2,
}

/** @internal One connection's state, shared by the server loop, the request and the response. */
export interface Conn {
  readonly sock: GreenSocket;
  phase: Phase;
  /** performance.now() when the current request's head wait began. */
  since: number;
  /** sock.bytesRead when the head wait began (no byte since = idle). */
  rxAt: number;
  /** Requests answered on this connection. */
  served: number;
  /** The timeout checker killed it (it is closed after this request). */
  timedOut: boolean;
  /** The head of the current response went out (a 100 Continue is pointless after it). */
  headSent: boolean;
  readonly limits: HeadLimits;
  readonly maxBodyBytes: number;
  /** An Expect: 100-continue not answered yet (the handler has not read the body). */
  expectPending: boolean;
  /** The server is stopping: responses say Connection: close. */
  readonly owner: { readonly closing: boolean };
  /** The Connection and Keep-Alive lines of a keep-alive HTTP/1.1 response. */
  readonly keepAliveLine: string;
}

const enum Framing {
  None = 0,
  Length = 1,
  Chunked = 2,
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
const CRLF_OPTS = { maxBytes: 4096 };
/** Headers of which Node keeps only the first (http.IncomingMessage#headers). */
const SINGLE = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

/** Folds header pairs into an object by Node's rules. */
function headerObject(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (prev as string[]).push(value);
    else if (SINGLE.has(name)) continue;
    else out[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

/**
 * A request as serveHttp's handler gets it: the head (method, url, headers…) parsed, the body
 * read on demand, blocking-style. A body the handler leaves unread is drained (up to a bound)
 * or the connection closed before the next request.
 *
 * @example
 * ```ts
 * spawn(() => serveHttp(server, function* (req: HttpRequest, res: HttpResponse) {
 *   if (req.method === 'POST') {
 *     const data = yield* req.json();
 *     yield* res.end(JSON.stringify({ got: data }));
 *   } else {
 *     yield* res.end(`you asked for ${req.path} with ${req.query.get('q')}`);
 *   }
 * }));
 * ```
 */
export class HttpRequest {
  /** The method, as sent (`'GET'`, `'POST'`…). */
  readonly method: string;
  /** The request target, as sent (`'/search?q=x'`). */
  readonly url: string;
  /** `'1.0'` or `'1.1'`. */
  readonly httpVersion: string;
  /** Every header line in order as [name, value] pairs, names in lower case, repeats kept. */
  readonly rawHeaders: ReadonlyArray<[string, string]>;
  /** The chunked body's trailers (lower-case names), once the body has been read to its end. */
  trailers: Record<string, string | string[]> | undefined;
  readonly #conn: Conn;
  #framing: Framing;
  /** Bytes left: of the body (Length) or of the current chunk (Chunked). */
  #left: number;
  #done: boolean;
  #total = 0;
  #headers: Record<string, string | string[]> | undefined;
  #path: string | undefined;
  #query: URLSearchParams | undefined;

  /** @internal serveHttp makes requests */
  constructor(conn: Conn, method: string, url: string, version: string, headers: Array<[string, string]>, framing: number, length: number, expectContinue: boolean) {
    this.#conn = conn;
    this.method = method;
    this.url = url;
    this.httpVersion = version;
    this.rawHeaders = headers;
    this.#framing = framing;
    this.#left = framing === Framing.Length ? length : 0;
    this.#done = framing === Framing.None || (framing === Framing.Length && length === 0);
    conn.expectPending = expectContinue && !this.#done;
  }

  /**
   * The headers as an object like Node's `req.headers`: lower-case names; repeats joined with
   * `', '` (`cookie` with `'; '`), `set-cookie` an array, and only the first kept of those Node
   * keeps one of (`content-type`, `host`, `user-agent`…). Built on first use.
   */
  get headers(): Record<string, string | string[]> {
    return (this.#headers ??= headerObject(this.rawHeaders));
  }

  /** The first value of one header (name in any case), or undefined; no object is built. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [n, v] of this.rawHeaders) if (n === lower) return v;
    return undefined;
  }

  /** The path part of the url, without the query (`'/search'`). */
  get path(): string {
    if (this.#path === undefined) {
      const q = this.url.indexOf('?');
      this.#path = q < 0 ? this.url : this.url.slice(0, q);
    }
    return this.#path;
  }

  /** The query string parsed (`req.query.get('q')`); empty when there is none. */
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const q = this.url.indexOf('?');
      this.#query = new URLSearchParams(q < 0 ? '' : this.url.slice(q + 1));
    }
    return this.#query;
  }

  /** The peer's address. */
  get remoteAddress(): string | undefined {
    return this.#conn.sock.remoteAddress;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    return this.#conn.sock.remotePort;
  }

  /** Whether the body has been read to its end (true at once when there is none). */
  get complete(): boolean {
    return this.#done;
  }

  /**
   * Reads up to `max` bytes of the body (default 64 KiB), waiting for at least one; an empty
   * Buffer once the body is all read. The first read answers an `Expect: 100-continue` with
   * `100 Continue`.
   *
   * @throws HttpError 413 past the server's maxBodyBytes, 400 for a broken chunked body or a
   *   body cut short by the peer.
   */
  read(max = 64 * 1024): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    return blocking(this.readOp(max), 'req.read()');
  }

  /** @internal read() after its checks */
  *readOp(max: number): Green<Buffer> {
    if (this.#done) return EMPTY;
    const conn = this.#conn;
    if (conn.expectPending) {
      conn.expectPending = false;
      if (!conn.headSent) yield* conn.sock.sendAll(CONTINUE);
    }
    conn.phase = Phase.Body;
    try {
      if (this.#framing === Framing.Length) return yield* this.#readLength(max);
      return yield* this.#readChunked(max);
    } finally {
      if (conn.phase === Phase.Body) conn.phase = Phase.Handler;
    }
  }

  *#readLength(max: number): Green<Buffer> {
    const data = yield* this.#conn.sock.recv(Math.min(max, this.#left));
    if (data.length === 0) throw new HttpError(400, 'the request body ended early', 'ERR_HTTP_BODY_INCOMPLETE');
    this.#left -= data.length;
    if (this.#left === 0) this.#done = true;
    return data;
  }

  *#readChunked(max: number): Green<Buffer> {
    const sock = this.#conn.sock;
    if (this.#left === 0) {
      const line = yield* this.#line(sock);
      const size = parseChunkSize(line.subarray(0, line.length - 2));
      if (size === 0) {
        yield* this.#readTrailers(sock);
        this.#done = true;
        return EMPTY;
      }
      if (this.#total + size > this.#conn.maxBodyBytes) throw tooLarge(this.#conn.maxBodyBytes);
      this.#total += size;
      this.#left = size;
    }
    const data = yield* sock.recv(Math.min(max, this.#left));
    if (data.length === 0) throw new HttpError(400, 'the request body ended early', 'ERR_HTTP_BODY_INCOMPLETE');
    this.#left -= data.length;
    if (this.#left === 0) {
      const crlf = yield* readCrlf(sock);
      if (crlf[0] !== 13 || crlf[1] !== 10) throw new HttpError(400, 'a chunk is not followed by CRLF', 'ERR_HTTP_INVALID_CHUNK');
    }
    return data;
  }

  *#line(sock: GreenSocket): Green<Buffer> {
    let line: Buffer;
    try {
      line = yield* sock.readUntil('\r\n', CRLF_OPTS);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_LINE_TOO_LONG') throw new HttpError(400, 'a chunk line is too long', 'ERR_HTTP_INVALID_CHUNK');
      throw e;
    }
    if (line.length < 2 || line[line.length - 2] !== 13 || line[line.length - 1] !== 10) throw new HttpError(400, 'the request body ended early', 'ERR_HTTP_BODY_INCOMPLETE');
    return line;
  }

  *#readTrailers(sock: GreenSocket): Green<void> {
    const lines: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const line = yield* this.#line(sock);
      bytes += line.length;
      if (bytes > this.#conn.limits.maxHeaderBytes) throw new HttpError(431, 'the trailers are too large', 'ERR_HTTP_HEADER_OVERFLOW');
      lines.push(line);
      if (line.length === 2) break;
    }
    if (lines.length > 1) this.trailers = headerObject(parseTrailers(Buffer.concat(lines), this.#conn.limits));
    else this.trailers = Object.create(null) as Record<string, string>;
  }

  /**
   * Reads the whole body into one Buffer.
   *
   * @throws HttpError 413 past `maxBytes` (default: the server's maxBodyBytes).
   */
  readAll(options: { maxBytes?: number } = {}): Operation<Buffer> {
    const max = options.maxBytes === undefined ? this.#conn.maxBodyBytes : validateInt(options.maxBytes, 'maxBytes', 0, Number.MAX_SAFE_INTEGER);
    return blocking(this.#readAll(max), 'req.readAll()');
  }

  *#readAll(max: number): Green<Buffer> {
    if (this.#framing === Framing.Length && this.#left > max) throw tooLarge(max);
    const parts: Buffer[] = [];
    let n = 0;
    for (;;) {
      const b = yield* this.readOp(64 * 1024);
      if (b.length === 0) break;
      n += b.length;
      if (n > max) throw tooLarge(max);
      parts.push(b);
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  /** Reads the whole body as UTF-8 text (limits as readAll). */
  text(options: { maxBytes?: number } = {}): Operation<string> {
    const op = this.readAll(options);
    return blocking((function* () {
      return (yield* op).toString('utf8');
    })(), 'req.text()');
  }

  /**
   * Reads the whole body and parses it as JSON (limits as readAll).
   *
   * @throws HttpError 400 when it is not JSON.
   */
  json<T = unknown>(options: { maxBytes?: number } = {}): Operation<T> {
    const op = this.readAll(options);
    return blocking((function* () {
      const text = (yield* op).toString('utf8');
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new HttpError(400, `the request body is not JSON: ${(e as Error).message}`, 'ERR_HTTP_INVALID_JSON');
      }
    })(), 'req.json()');
  }

  /** @internal Bytes of a Content-Length body not read yet (-1: chunked, unknown). */
  get unreadLength(): number {
    if (this.#done) return 0;
    return this.#framing === Framing.Length ? this.#left : -1;
  }

  /** @internal The handler never read a body announced with Expect: 100-continue. */
  get continuePending(): boolean {
    return this.#conn.expectPending;
  }
}

const EMPTY = Buffer.alloc(0);

function tooLarge(max: number): HttpError {
  return new HttpError(413, `the request body is larger than ${max} bytes`, 'ERR_HTTP_BODY_TOO_LARGE');
}

function* readCrlf(sock: GreenSocket): Green<Buffer> {
  try {
    return yield* sock.readExactly(2);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_END_OF_STREAM') throw new HttpError(400, 'the request body ended early', 'ERR_HTTP_BODY_INCOMPLETE');
    throw e;
  }
}
