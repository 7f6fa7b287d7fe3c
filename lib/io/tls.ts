/**
 * wrapTls: TLS on a green socket (eventlet's wrap_ssl), built on Node's own `tls` module —
 * greenhub has no TLS code of its own. The result reads like a GreenSocket.
 */
import * as tls from 'node:tls';
import { TimeoutError, isGreenletExit } from '../errors';
import { closedError, validateBytes } from './fd-stream';
import { getHub } from '../hub/hub';
import { Wakeup } from '../sync/wakeup';
import type { GreenSocket } from './socket';
import type { Green, Operation } from '../types';
import { describeValue, validateInt } from '../validate';
import { waitFor } from '../wait-for';

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
export type WrapTlsOptions = tls.ConnectionOptions & tls.SecureContextOptions & { isServer?: boolean; requestCert?: boolean };

/** A handshake failure, with the underlying error as `cause` and its `code`. */
function handshakeError(e: unknown): Error {
  const cause = e as Error & { code?: string };
  const err = new Error(`TLS handshake failed: ${cause?.message ?? String(e)}`, { cause }) as Error & { code?: string };
  if (cause?.code) err.code = cause.code;
  return err;
}

/**
 * Runs the TLS handshake on `sock` (client, or server with `isServer: true`) and returns a
 * GreenTlsSocket. The socket belongs to the TLS connection from now on.
 *
 * @throws an Error "TLS handshake failed: …" (with `code`, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`,
 *   and the original error as `cause`) in the calling greenthread.
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
  getHub().requireCurrent('wrapTls()');
  return wrapOp(sock, options);
}

function* wrapOp(sock: GreenSocket, options: WrapTlsOptions): Green<GreenTlsSocket> {
  const duplex = sock.toDuplex();
  const { isServer, ...rest } = options;
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
    yield* waitFor(ready);
  } catch (e) {
    t.destroy();
    if (e instanceof TimeoutError || isGreenletExit(e)) throw e; // a deadline or a kill, not a TLS failure
    throw handshakeError(e);
  }
  return new GreenTlsSocket(t);
}

/**
 * A TLS connection with GreenSocket's blocking-style calls. `tlsSocket` is Node's TLSSocket
 * underneath (peer certificate, ALPN, cipher…).
 *
 * @example
 * ```ts
 * const line = yield* tlsSock.readLine();
 * yield* tlsSock.sendAll(line);
 * tlsSock.close();
 * ```
 */
export class GreenTlsSocket {
  readonly tlsSocket: tls.TLSSocket;
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #error: Error | undefined;
  #closed = false;
  readonly #readable = new Wakeup('TLS read');
  readonly #drained = new Wakeup('TLS write (waiting for drain)');

  /** @internal use wrapTls() */
  constructor(t: tls.TLSSocket) {
    this.tlsSocket = t;
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

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the peer's certificate was verified. */
  get authorized(): boolean {
    return this.tlsSocket.authorized;
  }

  #check(): void {
    if (this.#closed) throw closedError('TLS socket', 'ERR_SOCKET_CLOSED');
  }

  /** Pulls what the TLS layer has decrypted; waits for more; 0 at end of stream. */
  *#fill(): Green<number> {
    for (;;) {
      this.#check();
      const c = this.tlsSocket.read() as Buffer | null;
      if (c !== null && c.length > 0) {
        this.#chunks.push(c);
        this.#length += c.length;
        return c.length;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return 0;
      yield* this.#readable.wait();
    }
  }

  #take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#length -= n;
    return out;
  }

  /** Up to max bytes (default 64 KiB); an empty Buffer at end of stream. */
  recv(max = 64 * 1024): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.#check();
    const self = this;
    return (function* recv(): Green<Buffer> {
      if (self.#length === 0 && (yield* self.#fill()) === 0) return Buffer.alloc(0);
      return self.#take(Math.min(max, self.#length));
    })();
  }

  /** Into buf; the count, 0 at end of stream. */
  recvInto(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.#check();
    const self = this;
    return (function* recvInto(): Green<number> {
      if (buf.length === 0) return 0;
      if (self.#length === 0 && (yield* self.#fill()) === 0) return 0;
      const out = self.#take(Math.min(buf.length, self.#length));
      buf.set(out);
      return out.length;
    })();
  }

  /** Exactly n bytes; end of stream first is an `ERR_END_OF_STREAM` error. */
  readExactly(n: number): Operation<Buffer> {
    validateInt(n, 'n', 0, 0x7fffffff);
    this.#check();
    const self = this;
    return (function* readExactly(): Green<Buffer> {
      while (self.#length < n) {
        if ((yield* self.#fill()) === 0) {
          const err = new Error(`end of stream after ${self.#length} of ${n} bytes`) as Error & { code: string };
          err.code = 'ERR_END_OF_STREAM';
          throw err;
        }
      }
      return self.#take(n);
    })();
  }

  /** Up to and including delim; at end of stream what is left. */
  readUntil(delim: string | Uint8Array, options: { maxBytes?: number } = {}): Operation<Buffer> {
    const d = typeof delim === 'string' ? Buffer.from(delim) : delim instanceof Uint8Array ? Buffer.from(delim) : undefined;
    if (d === undefined || d.length === 0) throw new TypeError('delim must be a non-empty string or Buffer');
    const maxBytes = options.maxBytes === undefined ? 1 << 20 : validateInt(options.maxBytes, 'maxBytes', 1, 0x7fffffff);
    this.#check();
    const self = this;
    return (function* readUntil(): Green<Buffer> {
      for (;;) {
        if (self.#length > 0) {
          if (self.#chunks.length > 1) self.#chunks = [Buffer.concat(self.#chunks)];
          const i = self.#chunks[0].indexOf(d);
          if (i >= 0) return self.#take(i + d.length);
          if (self.#length >= maxBytes) {
            const err = new Error(`no delimiter within ${maxBytes} bytes`) as Error & { code: string };
            err.code = 'ERR_LINE_TOO_LONG';
            throw err;
          }
        }
        if ((yield* self.#fill()) === 0) return self.#take(self.#length);
      }
    })();
  }

  /** One line, up to and including '\n'. */
  readLine(options: { maxBytes?: number } = {}): Operation<Buffer> {
    return this.readUntil('\n', options);
  }

  /**
   * Sends every byte (of one buffer or each of an array): returns once the encrypted bytes are
   * in the kernel, as GreenSocket.sendAll does, waiting while TLS buffers are full.
   */
  sendAll(data: Uint8Array | readonly Uint8Array[]): Operation<void> {
    const list = Array.isArray(data) ? (data as readonly Uint8Array[]) : [data as Uint8Array];
    list.forEach((b, i) => validateBytes(b, Array.isArray(data) ? `data[${i}]` : 'data'));
    this.#check();
    const self = this;
    return (function* sendAll(): Green<void> {
      let flushed = false;
      let writeError: Error | null | undefined;
      list.forEach((b, i) => {
        const last = i === list.length - 1;
        self.tlsSocket.write(b, last ? (err?: Error | null) => {
          flushed = true;
          writeError = err;
          self.#drained.notify();
        } : undefined);
      });
      if (list.length === 0) return;
      while (!flushed && !self.#error && !self.#closed) yield* self.#drained.wait();
      if (writeError) throw writeError;
      if (self.#error) throw self.#error;
      if (!flushed) throw closedError('TLS socket', 'ERR_SOCKET_CLOSED');
    })();
  }

  /** 'write' ends our side (close_notify, then a half-close); 'both' closes. */
  shutdown(how: 'write' | 'both'): void {
    if (how === 'write') this.tlsSocket.end();
    else if (how === 'both') this.close();
    else throw new TypeError(`how must be 'write' or 'both', got ${describeValue(how)}`);
  }

  /**
   * Closes the TLS connection (close_notify, after what is already written) and then the socket
   * under it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.tlsSocket.destroySoon();
    this.#readable.notify();
    this.#drained.notify();
  }
}
