/**
 * HttpResponse: what serveHttp's handler answers with — status and headers, then the body in
 * one `end(body)` (Content-Length) or in `write(chunk)`s (chunked).
 */
import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import { blocking } from '../operation';
import type { Green, Operation } from '../types';
import { describeValue, validateInt } from '../validate';
import type { Conn } from './request';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ASCII_VALUE = /^[\t\x20-\x7e]*$/;
const LATIN1_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
/** A string body up to this size is sent in one buffer with the head (one encode, one write). */
const INLINE_BODY = 16 * 1024;

/** "HTTP/1.1 200 OK\r\n", per status code. */
const statusLines = new Map<number, string>();
function statusLine(code: number, message: string | undefined): string {
  if (message !== undefined) return `HTTP/1.1 ${code} ${message}\r\n`;
  let s = statusLines.get(code);
  if (s === undefined) statusLines.set(code, (s = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'unknown'}\r\n`));
  return s;
}

// The Date header, made once a second.
let dateSecond = -1;
let dateLine = '';
function date(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateLine = `Date: ${new Date(s * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

const enum Has {
  Date = 1,
  Length = 2,
  Te = 4,
  Connection = 8,
  ConnClose = 16,
  Latin1 = 32,
}

const enum Body {
  /** Content-Length known (end(body) in one go, or set by the handler). */
  Length = 0,
  /** Chunked transfer coding (HTTP/1.1, no Content-Length). */
  Chunked = 1,
  /** No body at all (HEAD, 1xx, 204, 304). */
  None = 2,
  /** Till the connection closes (HTTP/1.0 peer, no Content-Length). */
  Close = 3,
}

/**
 * The response a serveHttp handler writes. Set `statusCode` (or call `status(code)`) and
 * headers, then either `yield* res.end(body)` — one write of head and body, with
 * Content-Length — or `yield* res.write(chunk)` as often as needed (chunked encoding when no
 * Content-Length was set; the head goes with the first chunk) and `yield* res.end()`. Strings
 * are sent as UTF-8. `Date` and, for HTTP/1.1 keep-alive, `Connection: keep-alive` are added
 * as Node adds them; a HEAD request gets the head only. A handler that returns without
 * `end()` gets an `end()` for it.
 *
 * @example
 * ```ts
 * function* handler(req: HttpRequest, res: HttpResponse): Green<void> {
 *   res.status(200).setHeader('Content-Type', 'text/plain');
 *   for (const line of ['one\n', 'two\n']) yield* res.write(line); // chunked
 *   yield* res.end();
 * }
 * ```
 */
export class HttpResponse {
  /** The status code (default 200). */
  statusCode = 200;
  /** The reason phrase (default: Node's `STATUS_CODES` text for the code). */
  statusMessage: string | undefined;
  /** Whether the head has gone out (headers can no longer change). */
  headersSent = false;
  /** Whether end() has been called. */
  finished = false;
  readonly #conn: Conn;
  readonly #head: boolean;
  readonly #http10: boolean;
  /** @internal Whether the connection stays open after this response. */
  keepAlive: boolean;
  #names: string[] = [];
  #lower: string[] = [];
  #values: Array<string | string[]> = [];
  #has = 0;
  #body: Body = Body.Length;

  /** @internal serveHttp makes responses */
  constructor(conn: Conn, isHead: boolean, http10: boolean, keepAlive: boolean) {
    this.#conn = conn;
    this.#head = isHead;
    this.#http10 = http10;
    this.keepAlive = keepAlive;
  }

  /** Sets the status code (and optionally the reason phrase); returns the response, for chaining. */
  status(code: number, message?: string): this {
    this.statusCode = validateInt(code, 'status code', 100, 999);
    if (message !== undefined) this.statusMessage = checkValue(message, 'status message');
    return this;
  }

  /**
   * Sets one header (replacing one of the same name, in any case); an array sends one line per
   * value (`Set-Cookie`). Returns the response, for chaining.
   *
   * @throws TypeError for an invalid name or value (CR, LF or other control characters), or
   *   once the head is sent.
   */
  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw headersSentError('setHeader');
    if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${describeValue(name)}`);
    let v: string | string[];
    if (typeof value === 'number') v = String(value);
    else if (typeof value === 'string') v = checkValue(value, name);
    else if (Array.isArray(value)) v = value.map((x: unknown) => checkValue(String(x), name));
    else throw new TypeError(`Invalid value for header ${name}: ${describeValue(value)}`);
    const lower = name.toLowerCase();
    const i = this.#lower.indexOf(lower);
    if (i >= 0) {
      this.#names[i] = name;
      this.#values[i] = v;
    } else {
      this.#names.push(name);
      this.#lower.push(lower);
      this.#values.push(v);
    }
    if (!ASCII_VALUE.test(typeof v === 'string' ? v : v.join(''))) this.#has |= Has.Latin1;
    return this;
  }

  /** One header's value (name in any case), or undefined. */
  getHeader(name: string): string | string[] | undefined {
    const i = this.#lower.indexOf(String(name).toLowerCase());
    return i < 0 ? undefined : this.#values[i];
  }

  /** Whether a header is set. */
  hasHeader(name: string): boolean {
    return this.#lower.indexOf(String(name).toLowerCase()) >= 0;
  }

  /** Removes a header. */
  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError('removeHeader');
    const i = this.#lower.indexOf(String(name).toLowerCase());
    if (i >= 0) {
      this.#names.splice(i, 1);
      this.#lower.splice(i, 1);
      this.#values.splice(i, 1);
    }
  }

  /** The header names set, in lower case. */
  getHeaderNames(): string[] {
    return this.#lower.slice();
  }

  /** Builds the head; `length` is the body's byte count, or -1 when unknown (streamed). */
  #makeHead(length: number): string {
    const code = this.statusCode;
    let s = statusLine(code, this.statusMessage);
    let has = this.#has;
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      const lower = this.#lower[i];
      const v = this.#values[i];
      if (lower.length >= 4) {
        if (lower === 'date') has |= Has.Date;
        else if (lower === 'content-length') has |= Has.Length;
        else if (lower === 'transfer-encoding') has |= Has.Te;
        else if (lower === 'connection') {
          has |= Has.Connection;
          if (/(^|[\s,])close([\s,]|$)/i.test(String(v))) has |= Has.ConnClose;
        }
      }
      if (typeof v === 'string') s += `${names[i]}: ${v}\r\n`;
      else for (const x of v) s += `${names[i]}: ${x}\r\n`;
    }
    this.#has = has;
    if ((has & Has.Date) === 0) s += date();
    const noBody = code < 200 || code === 204 || code === 304;
    if (noBody) this.#body = Body.None;
    else if ((has & (Has.Length | Has.Te)) !== 0) this.#body = (has & Has.Te) !== 0 && !this.#http10 ? Body.Chunked : Body.Length;
    else if (length >= 0) {
      s += `Content-Length: ${length}\r\n`;
      this.#body = Body.Length;
    } else if (this.#http10) {
      this.#body = Body.Close;
      this.keepAlive = false;
    } else {
      s += 'Transfer-Encoding: chunked\r\n';
      this.#body = Body.Chunked;
    }
    if (this.#head) this.#body = Body.None;
    if ((has & Has.ConnClose) !== 0 || this.#conn.timedOut || this.#conn.expectPending || this.#conn.owner.closing) this.keepAlive = false;
    if ((has & Has.Connection) === 0) s += this.keepAlive ? (this.#http10 ? 'Connection: keep-alive\r\n' : this.#conn.keepAliveLine) : 'Connection: close\r\n';
    this.headersSent = true;
    this.#conn.headSent = true;
    return s + '\r\n';
  }

  #encodeHead(s: string): Buffer {
    return Buffer.from(s, (this.#has & Has.Latin1) !== 0 ? 'latin1' : 'utf8');
  }

  /**
   * Sends a piece of the body (the head first, the first time). Without a Content-Length
   * header the body is sent chunked (HTTP/1.1) or till the connection closes (HTTP/1.0).
   */
  write(chunk: string | Uint8Array): Operation<void> {
    if (this.finished) throw new Error('write() after end()');
    const buf = toBuffer(chunk, 'chunk');
    return blocking(this.#write(buf), 'res.write()');
  }

  *#write(buf: Buffer): Green<void> {
    const sock = this.#conn.sock;
    if (!this.headersSent) {
      const head = this.#encodeHead(this.#makeHead(-1));
      if (this.#body === Body.Chunked && buf.length > 0) yield* sock.sendAll([head, Buffer.from(`${buf.length.toString(16)}\r\n`), buf, CRLF]);
      else if (this.#body !== Body.None && buf.length > 0) yield* sock.sendAll([head, buf]);
      else yield* sock.sendAll(head);
      return;
    }
    if (buf.length === 0 || this.#body === Body.None) return;
    if (this.#body === Body.Chunked) yield* sock.sendAll([Buffer.from(`${buf.length.toString(16)}\r\n`), buf, CRLF]);
    else yield* sock.sendAll(buf);
  }

  /**
   * Ends the response: with a body and nothing written yet, sends head and body in one write
   * with its Content-Length; after write()s, sends the last piece (and the chunked end).
   * Calling it again does nothing.
   */
  end(body?: string | Uint8Array): Operation<void> {
    if (this.finished) return blocking(nothing(), 'res.end()');
    const b = body === undefined ? undefined : typeof body === 'string' ? body : toBuffer(body, 'body');
    return blocking(this.endOp(b), 'res.end()');
  }

  /** @internal end() after its checks */
  *endOp(body: string | Buffer | undefined): Green<void> {
    if (this.finished) return;
    this.finished = true;
    const sock = this.#conn.sock;
    if (!this.headersSent) {
      if (body === undefined) {
        yield* sock.sendAll(this.#encodeHead(this.#makeHead(0)));
      } else if (typeof body === 'string') {
        if (body.length <= INLINE_BODY && (this.#has & Has.Latin1) === 0) {
          const n = Buffer.byteLength(body);
          const head = this.#makeHead(n);
          // All ASCII (as many bytes as characters): latin1 encodes it faster than utf8.
          yield* sock.sendAll(this.#body === Body.None ? Buffer.from(head, 'latin1') : Buffer.from(head + body, n === body.length ? 'latin1' : 'utf8'));
        } else {
          const b = Buffer.from(body);
          const head = this.#encodeHead(this.#makeHead(b.length));
          yield* sock.sendAll(this.#body === Body.None ? head : [head, b]);
        }
      } else {
        const head = this.#encodeHead(this.#makeHead(body.length));
        yield* sock.sendAll(this.#body === Body.None || body.length === 0 ? head : [head, body]);
      }
      return;
    }
    if (body !== undefined) yield* this.#write(typeof body === 'string' ? Buffer.from(body) : body);
    if (this.#body === Body.Chunked) yield* sock.sendAll(LAST_CHUNK);
  }

  /** @internal Sends a whole error answer with Connection: close (nothing sent yet). */
  *sendError(status: number, message?: string): Green<void> {
    this.#names = [];
    this.#lower = [];
    this.#values = [];
    this.#has = 0;
    this.statusCode = status;
    this.statusMessage = undefined;
    this.keepAlive = false;
    this.setHeader('Content-Type', 'text/plain; charset=utf-8');
    yield* this.endOp(message ?? `${STATUS_CODES[status] ?? 'Error'}\n`);
  }
}

function* nothing(): Green<void> {
  /* end() again */
}

function checkValue(v: string, what: string): string {
  if (ASCII_VALUE.test(v) || LATIN1_VALUE.test(v)) return v;
  throw new TypeError(`Invalid character in header content ["${what}"]`);
}

function toBuffer(x: unknown, what: string): Buffer {
  if (typeof x === 'string') return Buffer.from(x);
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError(`${what} must be a string, Buffer or Uint8Array, got ${describeValue(x)}`);
}

function headersSentError(what: string): Error {
  return Object.assign(new Error(`Cannot ${what} after the headers are sent`), { code: 'ERR_HTTP_HEADERS_SENT' });
}
