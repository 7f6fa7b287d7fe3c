/**
 * GreenSocket: a connected stream socket (TCP or Unix) with blocking-style calls, eventlet's
 * green socket. Every call that waits returns an operation: `yield* sock.recv(1024)`.
 */
import { type AddressInfo, familyName, toAddressInfo } from './address';
import { adoptableSocket } from './adopt';
import { GreenDuplex } from './duplex';
import { FdStream, closedError, validateBytes } from './fd-stream';
import { K, check, native } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateMs } from '../validate';

const CHUNK = 64 * 1024;

/** Options of `readUntil` / `readLine`. */
export interface ReadUntilOptions {
  /** Give up with an `ERR_LINE_TOO_LONG` error past this many bytes (default 1 MiB). */
  maxBytes?: number;
}

function endOfStream(got: number, wanted: number): Error & { code: string; partial?: Buffer } {
  const err = new Error(`end of stream after ${got} of ${wanted} bytes`) as Error & { code: string };
  err.code = 'ERR_END_OF_STREAM';
  return err;
}

/**
 * A connected stream socket. Get one from `connect()` or `server.accept()`.
 *
 * Reads go through one internal buffer shared by `recv`, `recvInto`, `readExactly`,
 * `readUntil` and `readLine`, so they can be mixed freely (eventlet's `makefile` use). One
 * reader and one writer at a time: a second concurrent one is an error.
 *
 * @example
 * ```ts
 * const sock = yield* connect({ host: '127.0.0.1', port: 8080 });
 * yield* sock.sendAll(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
 * const status = yield* sock.readLine();
 * sock.close();
 * ```
 */
export class GreenSocket extends FdStream {
  /** @internal AF_INET, AF_INET6 or AF_UNIX */ readonly #af: number;
  #rbuf: Buffer | undefined;
  #rstart = 0;
  #rend = 0;
  #delimText: string | undefined;
  #delimBytes: Buffer | undefined;
  #local: AddressInfo | undefined;
  #remote: AddressInfo | undefined;

  /**
   * Adopts a connected stream socket the process already owns (from a parent process, socket
   * activation, another library): made non-blocking, registered with the hub, and owned by the
   * GreenSocket from now on (close() closes it).
   *
   * @throws TypeError when fd is not a connected stream socket; a system error for a bad fd.
   * @example
   * ```ts
   * const sock = GreenSocket.fromFd(3); // an fd inherited from the parent
   * yield* sock.sendAll(Buffer.from('hello\n'));
   * ```
   */
  static fromFd(fd: number): GreenSocket {
    const { af } = adoptableSocket(fd, false, 'GreenSocket.fromFd');
    return new GreenSocket(fd, af, false, true);
  }

  /** @internal use connect(), accept() or fromFd() */
  constructor(fd: number, af: number, registered = false, shared = false) {
    super(fd, true, shared, registered);
    this.#af = af;
  }

  /** @internal */
  protected describe(): string {
    return 'socket';
  }

  /** @internal */
  protected closedError(): Error {
    return closedError('socket', 'ERR_SOCKET_CLOSED');
  }

  /** @internal */
  protected override onClose(fd: number): void {
    this.#rbuf = undefined;
    native.close(fd);
  }

  // ---------------------------------------------------------------- reading

  #buffered(): number {
    return this.#rend - this.#rstart;
  }

  /** Moves up to len buffered bytes into out at off. */
  #take(out: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.#buffered());
    if (out instanceof Buffer) this.#rbuf!.copy(out, off, this.#rstart, this.#rstart + n);
    else out.set(this.#rbuf!.subarray(this.#rstart, this.#rstart + n), off);
    this.#rstart += n;
    return n;
  }

  /** Makes room at the end of the internal buffer (compacting or growing it) and returns it. */
  #prepareFill(): Buffer {
    let buf = this.#rbuf;
    if (buf === undefined) buf = this.#rbuf = Buffer.allocUnsafe(CHUNK);
    if (this.#rstart === this.#rend) {
      this.#rstart = this.#rend = 0;
    } else if (this.#rend === buf.length) {
      const used = this.#buffered();
      if (this.#rstart > 0 && used <= buf.length / 2) {
        buf.copy(buf, 0, this.#rstart, this.#rend);
      } else {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, this.#rstart, this.#rend);
        buf = this.#rbuf = grown;
      }
      this.#rstart = 0;
      this.#rend = used;
    }
    return buf;
  }

  /** Reads more into the internal buffer; returns bytes added (0 at end of stream). */
  *#fill(): Green<number> {
    const buf = this.#prepareFill();
    const n = yield* this.ioRead(buf, this.#rend, buf.length - this.#rend);
    this.#rend += n;
    return n;
  }

  /**
   * Receives up to `max` bytes (default 64 KiB), waiting until at least one is there. Returns an
   * empty Buffer at end of stream.
   *
   * @throws a system error (`ECONNRESET`…), the closed error, or TimeoutError (see setTimeout).
   * @example
   * ```ts
   * for (;;) {
   *   const data = yield* sock.recv(4096);
   *   if (data.length === 0) break; // the peer closed
   *   handle(data);
   * }
   * ```
   */
  recv(max = CHUNK): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.checkOpen();
    return this.#recv(max);
  }

  // The buffered reads below take the reader role before they touch the shared buffer, so a
  // second concurrent reader is refused first (the reads inside take it again: same holder).

  *#recv(max: number): Green<Buffer> {
    // Read through the shared buffer and hand out exactly what came: no `max`-sized allocation
    // per call (small results come from Node's buffer pool); the rest stays buffered.
    const prev = this._enter(false);
    try {
      if (this.#buffered() === 0 && (yield* this.#fill()) === 0) return Buffer.alloc(0);
      const out = Buffer.allocUnsafe(Math.min(max, this.#buffered()));
      this.#take(out, 0, out.length);
      return out;
    } finally {
      this._leave(false, prev);
    }
  }

  /**
   * Receives into `buf` (at most its length); returns the count, 0 at end of stream. No
   * allocation: the echo-server loop.
   *
   * @example
   * ```ts
   * const buf = Buffer.allocUnsafe(64 * 1024);
   * const n: number = yield* sock.recvInto(buf);
   * ```
   */
  recvInto(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    // Data already buffered (a readLine read ahead) is handed out first; else straight to read().
    return this.#buffered() > 0 ? this.#recvBuffered(buf) : this.ioRead(buf, 0, buf.length);
  }

  *#recvBuffered(buf: Uint8Array): Green<number> {
    const prev = this._enter(false);
    this._leave(false, prev);
    return this.#take(buf, 0, buf.length);
  }

  /**
   * Receives exactly `n` bytes. End of stream first is an error with `code:
   * 'ERR_END_OF_STREAM'` (the bytes that did arrive stay readable).
   *
   * @example
   * ```ts
   * const header = yield* sock.readExactly(4);
   * const body = yield* sock.readExactly(header.readUInt32BE(0));
   * ```
   */
  readExactly(n: number): Operation<Buffer> {
    validateInt(n, 'n', 0, 0x7fffffff);
    this.checkOpen();
    return this.#readExactly(n);
  }

  *#readExactly(n: number): Green<Buffer> {
    const prev = this._enter(false);
    try {
      while (this.#buffered() < n) {
        if ((yield* this.#fill()) === 0) throw endOfStream(this.#buffered(), n);
      }
      const out = Buffer.allocUnsafe(n);
      this.#take(out, 0, n);
      return out;
    } finally {
      this._leave(false, prev);
    }
  }

  /**
   * Receives up to and including `delim` (a string or bytes). At end of stream it returns what
   * is left without the delimiter (an empty Buffer when nothing is), like a file's readline.
   *
   * @throws `ERR_LINE_TOO_LONG` past `maxBytes` (default 1 MiB) without a delimiter.
   * @example
   * ```ts
   * const head = yield* sock.readUntil('\r\n\r\n'); // an HTTP request head
   * ```
   */
  readUntil(delim: string | Uint8Array, options: ReadUntilOptions = {}): Operation<Buffer> {
    let d: Buffer | undefined;
    if (typeof delim === 'string') {
      // readLine() and HTTP heads ask for the same delimiter on every call: keep its bytes.
      if (delim !== this.#delimText) {
        this.#delimText = delim;
        this.#delimBytes = Buffer.from(delim);
      }
      d = this.#delimBytes;
    } else if (delim instanceof Uint8Array) {
      d = Buffer.from(delim);
    }
    if (d === undefined) throw new TypeError(`delim must be a string or Buffer, got ${describeValue(delim)}`);
    if (d.length === 0) throw new RangeError('delim must not be empty');
    const maxBytes = options.maxBytes === undefined ? 1 << 20 : validateInt(options.maxBytes, 'maxBytes', 1, 0x7fffffff);
    this.checkOpen();
    return this.#readUntil(d, maxBytes);
  }

  /**
   * Receives one line, up to and including `'\n'`; at end of stream what is left (an empty
   * Buffer when nothing is).
   *
   * @example
   * ```ts
   * for (;;) {
   *   const line = yield* sock.readLine();
   *   if (line.length === 0) break;
   *   console.log(line.toString().trimEnd());
   * }
   * ```
   */
  readLine(options: ReadUntilOptions = {}): Operation<Buffer> {
    return this.readUntil('\n', options);
  }

  *#readUntil(delim: Buffer, maxBytes: number): Green<Buffer> {
    const prev = this._enter(false);
    try {
      let scanned = 0; // bytes already searched, so a long line is not searched again each chunk
      for (;;) {
        const avail = this.#buffered();
        if (avail > 0) {
          const from = this.#rstart + Math.max(0, scanned - delim.length + 1);
          const i = this.#rbuf!.indexOf(delim, from);
          if (i >= 0 && i + delim.length <= this.#rend) {
            const out = Buffer.allocUnsafe(i + delim.length - this.#rstart);
            this.#take(out, 0, out.length);
            return out;
          }
          scanned = avail;
        }
        if (avail >= maxBytes) {
          const err = new Error(`no delimiter within ${maxBytes} bytes`) as Error & { code: string };
          err.code = 'ERR_LINE_TOO_LONG';
          throw err;
        }
        // The fill inlined (this is the request-parsing hot path: one generator, not two).
        const buf = this.#prepareFill();
        const n = yield* this.ioRead(buf, this.#rend, buf.length - this.#rend);
        this.#rend += n;
        if (n === 0) {
          const out = Buffer.allocUnsafe(this.#buffered());
          this.#take(out, 0, out.length);
          return out;
        }
      }
    } finally {
      this._leave(false, prev);
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Sends some of `buf`, waiting until the socket takes at least one byte; returns how many it
   * took. Most callers want `sendAll`.
   *
   * @example
   * ```ts
   * const n = yield* sock.send(buf);
   * ```
   */
  send(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return this.ioWrite(buf, 0, buf.length);
  }

  /**
   * Sends every byte of `buf`, or of each buffer of an array in order (one writev per batch, no
   * copy of the caller's buffers), waiting as the peer reads. A closed peer is `EPIPE` or
   * `ECONNRESET`, never a SIGPIPE.
   *
   * @example
   * ```ts
   * yield* sock.sendAll([header, body]);
   * ```
   */
  sendAll(data: Uint8Array | readonly Uint8Array[]): Operation<void> {
    if (Array.isArray(data)) {
      data.forEach((b, i) => validateBytes(b, `data[${i}]`));
      this.checkOpen();
      return this.ioWritev(data as readonly Uint8Array[]);
    }
    validateBytes(data, 'data');
    this.checkOpen();
    return this.ioWriteAll(data as Uint8Array);
  }

  /**
   * Shuts down one or both directions: `'write'` sends end of stream to the peer (a
   * half-close: you can still read its answer), `'read'` discards further input.
   *
   * @example
   * ```ts
   * yield* sock.sendAll(request);
   * sock.shutdown('write');
   * const answer = yield* sock.readUntil('\n');
   * ```
   */
  shutdown(how: 'read' | 'write' | 'both'): void {
    const h = how === 'read' ? K.SHUT_RD : how === 'write' ? K.SHUT_WR : how === 'both' ? K.SHUT_RDWR : -1;
    if (h < 0) throw new TypeError(`how must be 'read', 'write' or 'both', got ${describeValue(how)}`);
    this.checkOpen();
    check(native.shutdown(this._fd, h), 'shutdown');
  }

  /**
   * A Node `stream.Duplex` over this socket (reads pumped by a greenthread with backpressure,
   * writes through sendAll, end() as a half-close, destroy() closing the socket), for
   * `stream.pipeline`, `tls.connect({ socket })` and the rest of Node's stream world. The
   * Duplex takes the socket over: use one or the other, not both.
   *
   * @example
   * ```ts
   * import { pipeline } from 'node:stream/promises';
   * yield* waitFor(pipeline(fs.createReadStream('big.bin'), sock.toDuplex()));
   * ```
   */
  toDuplex(): GreenDuplex {
    this.checkOpen();
    return new GreenDuplex(this);
  }

  // ---------------------------------------------------------------- options and addresses

  /** Disables (or re-enables) Nagle's algorithm. No effect on Unix sockets. */
  setNoDelay(noDelay = true): this {
    this.checkOpen();
    if (this.#af !== K.AF_UNIX) check(native.setsockopt(this._fd, K.IPPROTO_TCP, K.TCP_NODELAY, noDelay ? 1 : 0), 'setsockopt');
    return this;
  }

  /** Enables TCP keep-alive probes, the first after `initialDelayMs` idle (rounded up to seconds). */
  setKeepAlive(enable = true, initialDelayMs?: number): this {
    this.checkOpen();
    if (this.#af === K.AF_UNIX) return this;
    check(native.setsockopt(this._fd, K.SOL_SOCKET, K.SO_KEEPALIVE, enable ? 1 : 0), 'setsockopt');
    if (enable && initialDelayMs !== undefined) {
      const s = Math.max(1, Math.ceil(validateMs(initialDelayMs, 'initialDelayMs') / 1000));
      check(native.setsockopt(this._fd, K.IPPROTO_TCP, K.TCP_KEEPIDLE, s), 'setsockopt');
    }
    return this;
  }

  #localInfo(): AddressInfo | undefined {
    if (this.#local === undefined && !this.closed) {
      const a = native.getsockname(this._fd);
      if (typeof a !== 'number') this.#local = toAddressInfo(a);
    }
    return this.#local;
  }

  #remoteInfo(): AddressInfo | undefined {
    if (this.#remote === undefined && !this.closed) {
      const a = native.getpeername(this._fd);
      if (typeof a !== 'number') this.#remote = toAddressInfo(a);
    }
    return this.#remote;
  }

  /** This end's address (the path for a Unix socket). */
  get localAddress(): string | undefined {
    return this.#localInfo()?.address;
  }

  get localPort(): number | undefined {
    return this.#localInfo()?.port;
  }

  /** The peer's address (undefined once closed, unless asked before). */
  get remoteAddress(): string | undefined {
    return this.#remoteInfo()?.address;
  }

  get remotePort(): number | undefined {
    return this.#remoteInfo()?.port;
  }

  /** `'IPv4'`, `'IPv6'` or `'Unix'`. */
  get remoteFamily(): AddressInfo['family'] {
    return familyName(this.#af);
  }
}
