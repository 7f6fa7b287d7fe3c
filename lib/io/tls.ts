/**
 * wrapTls: TLS on a green socket (eventlet's wrap_ssl), built on Node's own `tls` module —
 * greenhub has no TLS code of its own. The result reads like a GreenSocket.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { TimeoutError, closedError, handshakeError, isGreenletExit } from '../errors';
import type { AnyGreenThread } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { Wakeup } from '../sync/wakeup';
import type { Green, GreenStream, Operation, ReadUntilOptions } from '../types';
import { describeValue, validateBytes, validateMs, validateOneOf } from '../validate';
import { withTimeoutOp } from '../sync/timeout';
import { waitFor } from '../wait-for';
import { BufferedReader } from './buffered-reader';
import type { GreenSocket } from './socket';
import { Role } from './role';
import { blocking } from '../operation';

/**
 * Options of {@link wrapTls}: Node's `tls.connect` options for a client (`servername`, `ca`,
 * `rejectUnauthorized`…), or, with `isServer: true`, the server's (`key`, `cert`, `ca`,
 * `requestCert`…).
 *
 * @example
 * ```ts
 * const opts: WrapTlsOptions = { isServer: true, key: fs.readFileSync('key.pem'), cert: fs.readFileSync('cert.pem') };
 * ```
 */
export type WrapTlsOptions = tls.ConnectionOptions &
  tls.SecureContextOptions & {
    isServer?: boolean;
    requestCert?: boolean;
    /**
     * The handshake must finish within this (default 30,000 ms), or wrapTls throws a
     * TimeoutError and closes the connection: a peer that stops halfway holds nothing for ever.
     */
    handshakeTimeoutMs?: number;
    /**
     * close() sends close_notify after what is already written; a peer that does not read it
     * within this (default 5,000 ms) has the connection cut.
     */
    closeTimeoutMs?: number;
  };

const HANDSHAKE_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;


/**
 * Runs the TLS handshake on `sock` (client, or server with `isServer: true`) and returns a
 * GreenTlsSocket. The socket belongs to the TLS connection from now on.
 *
 * @throws an Error "TLS handshake failed: …" (with `code`, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`,
 *   and the original error as `cause`) in the calling greenthread; a TimeoutError past
 *   `handshakeTimeoutMs` (default 30 s). Either way the connection is closed.
 * @example
 * ```ts
 * const raw = yield* connect({ host: 'localhost', port: 8443 });
 * const sock = yield* wrapTls(raw, { servername: 'localhost', ca: caPem });
 * yield* sock.sendAll(Buffer.from('hello\n'));
 * console.log((yield* sock.readLine()).toString());
 * ```
 */
export function wrapTls(sock: GreenSocket, options: WrapTlsOptions = {}): Operation<GreenTlsSocket> {
  if (options === null || typeof options !== 'object') throw new TypeError(`wrapTls options must be an object, got ${describeValue(options)}`);
  const handshakeMs = options.handshakeTimeoutMs === undefined ? HANDSHAKE_TIMEOUT_MS : validateMs(options.handshakeTimeoutMs, 'handshakeTimeoutMs');
  const closeMs = options.closeTimeoutMs === undefined ? CLOSE_TIMEOUT_MS : validateMs(options.closeTimeoutMs, 'closeTimeoutMs');
  return blocking(wrapOp(sock, options, handshakeMs, closeMs), 'wrapTls()');
}

function* wrapOp(sock: GreenSocket, options: WrapTlsOptions, handshakeMs: number, closeMs: number): Green<GreenTlsSocket> {
  const duplex = sock.toDuplex();
  const { isServer, handshakeTimeoutMs: _h, closeTimeoutMs: _c, ...rest } = options;
  let t: tls.TLSSocket;
  let event: string;
  if (isServer) {
    t = new tls.TLSSocket(duplex, { ...rest, isServer: true, secureContext: tls.createSecureContext(rest) } as tls.TLSSocketOptions);
    event = 'secure';
  } else {
    t = tls.connect({ ...rest, socket: duplex });
    event = 'secureConnect';
  }
  // Errors after the first (a destroy during a failed handshake emits more) must not go
  // unhandled; GreenTlsSocket keeps its own listener afterwards.
  t.on('error', () => {});
  const ready = new Promise<void>((resolve, reject) => {
    t.once(event, () => resolve());
    t.once('error', reject);
    const closed = () => reject(new Error('connection closed during the handshake'));
    t.once('end', closed);
    t.once('close', closed);
  });
  try {
    yield* withTimeoutOp(handshakeMs, waitFor(ready), `TLS handshake timed out after ${handshakeMs} ms`);
  } catch (e) {
    t.destroy();
    if (e instanceof TimeoutError || isGreenletExit(e)) throw e; // a deadline or a kill, not a TLS failure
    throw handshakeError(e);
  }
  return new GreenTlsSocket(t, closeMs, duplex);
}

/**
 * A TLS connection with GreenSocket's blocking-style calls (a GreenStream). `tlsSocket` is
 * Node's TLSSocket underneath (peer certificate, ALPN, cipher…).
 *
 * @example
 * ```ts
 * const line = yield* tlsSock.readLine();
 * yield* tlsSock.sendAll(line);
 * tlsSock.close();
 * ```
 */
export class GreenTlsSocket implements GreenStream {
  readonly tlsSocket: tls.TLSSocket;
  /** Decrypted bytes taken from the TLS layer and not yet handed to the reader. */
  #pending: Buffer | undefined;
  #ended = false;
  #error: Error | undefined;
  #closed = false;
  // This socket is the reader's ByteSource (fill, enterRead, leaveRead, checkOpen: internal).
  readonly #in = new BufferedReader(this);
  /** @internal decrypted bytes are ours alone */
  readonly readsAhead = true;
  readonly #reader = new Role('reader');
  readonly #readable = new Wakeup('TLS read');
  readonly #drained = new Wakeup('TLS write (waiting for drain)');

  readonly #closeMs: number;

  /** @internal use wrapTls() */
  constructor(t: tls.TLSSocket, closeMs: number, under?: Duplex) {
    this.tlsSocket = t;
    this.#closeMs = closeMs;
    // Node's TLS layer ends quietly when the stream under it fails: a reset would read as a
    // clean end of stream. The raw socket's error is the reader's error.
    under?.on('error', (e: Error) => {
      this.#error ??= e;
      this.#readable.notify();
      this.#drained.notify();
    });
    t.on('readable', () => this.#readable.notify());
    t.on('end', () => {
      this.#ended = true;
      this.#readable.notify();
    });
    t.on('error', (e) => {
      this.#error = e;
      this.#readable.notify();
      this.#drained.notify();
    });
    t.on('close', () => {
      this.#ended = true;
      this.#readable.notify();
      this.#drained.notify();
    });
    t.on('drain', () => this.#drained.notify());
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #timeoutMs = 0;

  /**
   * Every blocking call on this socket throws TimeoutError (`ETIMEDOUT`) once it has waited `ms`
   * for its peer; `null` or `Infinity` (the default) waits for ever. (A timeout of the raw
   * socket under TLS would look like the end of the stream to TLS: set it here.) Unlike a
   * GreenSocket's, 0 is refused: TLS has no non-blocking mode here, and taking 0 to mean "no
   * timeout", as it once did, would now read as the opposite of what a GreenSocket does.
   *
   * @example
   * ```ts
   * tlsSock.setTimeout(30_000);
   * ```
   */
  setTimeout(ms: number | null): this {
    if (ms === null || ms === Infinity) {
      this.#timeoutMs = 0;
      return this;
    }
    if (ms === 0) throw new RangeError('GreenTlsSocket.setTimeout(0): a TLS socket has no non-blocking mode; pass null (or Infinity) for no timeout, or a positive ms');
    this.#timeoutMs = validateMs(ms, 'ms');
    return this;
  }

  /** Whether the peer's certificate was verified. */
  get authorized(): boolean {
    return this.tlsSocket.authorized;
  }

  /** @internal */
  checkOpen(): void {
    if (this.#closed) throw closedError('TLS socket', 'ERR_SOCKET_CLOSED');
  }

  /** @internal ByteSource */
  enterRead(): AnyGreenThread | undefined {
    this.checkOpen();
    return this.#reader.take(getHub().requireCurrent('TLS socket I/O'), 'TLS socket');
  }

  /** @internal ByteSource */
  leaveRead(prev: AnyGreenThread | undefined): void {
    this.#reader.give(prev);
  }

  /** @internal ByteSource: copies what the TLS layer has decrypted; waits for more; 0 at end of stream. */
  fill(buf: Uint8Array, off: number, len: number): Operation<number> {
    return this.#fill(buf, off, len);
  }

  *#fill(buf: Uint8Array, off: number, len: number): Green<number> {
    const prev = this.enterRead();
    try {
      for (;;) {
        this.checkOpen();
        const c = this.#pending ?? (this.tlsSocket.read() as Buffer | null);
        if (c !== null && c.length > 0) {
          const n = Math.min(len, c.length);
          buf.set(c.subarray(0, n), off);
          this.#pending = n < c.length ? c.subarray(n) : undefined;
          return n;
        }
        if (this.#error) throw this.#error;
        if (this.#ended) return 0;
        yield* this.#readable.wait(this.#timeoutMs > 0 ? this.#timeoutMs : -1, this);
      }
    } finally {
      this.leaveRead(prev);
    }
  }

  /** Up to max bytes (default 64 KiB); an empty Buffer at end of stream. See GreenSocket.recv. */
  recv(max = 64 * 1024): Operation<Buffer> {
    return this.#in.recv(max);
  }

  /** Into buf; the count, 0 at end of stream. See GreenSocket.recvInto. */
  recvInto(buf: Uint8Array): Operation<number> {
    return this.#in.recvInto(buf);
  }

  /** Exactly n bytes; end of stream first is an `ERR_END_OF_STREAM` error. See GreenSocket.readExactly. */
  readExactly(n: number): Operation<Buffer> {
    return this.#in.readExactly(n);
  }

  /** Up to and including delim; at end of stream what is left. See GreenSocket.readUntil. */
  readUntil(delim: string | Uint8Array, options?: ReadUntilOptions): Operation<Buffer> {
    return this.#in.readUntil(delim, options);
  }

  /** One line, up to and including '\n'. See GreenSocket.readLine. */
  readLine(options?: ReadUntilOptions): Operation<Buffer> {
    return this.#in.readUntil('\n', options, 'readLine()');
  }

  /**
   * Sends every byte (of one buffer or each of an array): returns once the encrypted bytes are
   * in the kernel, as GreenSocket.sendAll does, waiting while TLS buffers are full.
   */
  sendAll(data: string | Uint8Array | readonly Uint8Array[]): Operation<void> {
    if (typeof data === 'string') data = Buffer.from(data, 'utf8'); // as GreenSocket.sendAll
    const list = Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array];
    list.forEach((b, i) => validateBytes(b, Array.isArray(data) ? `data[${i}]` : 'data'));
    this.checkOpen();
    return blocking(this.#sendAll(list), 'sendAll()');
  }

  *#sendAll(list: readonly Uint8Array[]): Green<void> {
    let flushed = false;
    let writeError: Error | null | undefined;
    list.forEach((b, i) => {
      const last = i === list.length - 1;
      this.tlsSocket.write(b, last ? (err?: Error | null) => {
        flushed = true;
        writeError = err;
        this.#drained.notify();
      } : undefined);
    });
    if (list.length === 0) return;
    while (!flushed && !this.#error && !this.#closed) yield* this.#drained.wait(this.#timeoutMs > 0 ? this.#timeoutMs : -1, this);
    if (writeError) throw writeError;
    if (this.#error) throw this.#error;
    if (!flushed) throw closedError('TLS socket', 'ERR_SOCKET_CLOSED');
  }

  /** 'write' ends our side (close_notify, then a half-close); 'both' closes. */
  shutdown(how: 'write' | 'both'): void {
    if (validateOneOf(how, 'how', ['write', 'both']) === 'write') this.tlsSocket.end();
    else this.close();
  }

  /**
   * Closes the TLS connection (close_notify, after what is already written) and then the socket
   * under it. Idempotent. A peer that does not take those bytes within `closeTimeoutMs` (default
   * 5 s) has the connection cut: a peer that stopped reading holds nothing for ever.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = undefined;
    this.#in.release();
    const t = this.tlsSocket;
    t.destroySoon();
    if (!t.destroyed) {
      const cut = setTimeout(() => t.destroy(), this.#closeMs);
      cut.unref();
      t.once('close', () => clearTimeout(cut));
    }
    this.#readable.notify();
    this.#drained.notify();
  }
}
