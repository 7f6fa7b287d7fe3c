/**
 * FdStream: the byte-stream half shared by GreenSocket and GreenFd — the buffered reads, send,
 * sendAll (write and writev), toDuplex — on top of FdHandle.
 *
 * The hot path of green I/O (an echo round trip is one read and one write) is IoOp below: the
 * FdHandle loop written as a hand-written iterator that allocates nothing, re-armed per call.
 * The readiness rule it applies, beyond FdHandle's: on TCP sockets and greenhub's own pipes a
 * short read or write clears the cached readiness (the kernel had no more), which saves the
 * read that would only return EAGAIN; other fds are drained to EAGAIN (fd-table.ts says why).
 */
import { Buffer } from 'node:buffer';
import { systemError } from '../errors';
import { type Direction, READY_READ, READY_WRITE } from '../hub/fd-table';
import type { AnyGreenThread } from '../hub/greenthread';
import { RESUME, SUSPEND_RESULT, done } from '../hub/instructions';
import { type Timer, TimerKind } from '../hub/timers';
import { E, native } from '../native';
import type { Green, GreenStream, Operation, ReadUntilOptions } from '../types';
import { validateBytes } from '../validate';
import { BufferedReader } from './buffered-reader';
import { GreenDuplex } from './duplex';
import { FdHandle, type FdHandleOptions } from './fd-handle';
import { blocking } from '../operation';

/** sendAll of an array up to this many bytes copies into one buffer instead of a writev. */
const SMALL_GATHER = 4096;

/** The most one syscall moves (the addon's cap; Linux's own is just under 2 GiB). */
const MAX_IO = 1 << 30;

const IDLE = 0;
const ARMED = 1;
const RUNNING = 2;

/**
 * One read or write on a stream. Each stream keeps one read and one write op and re-arms it;
 * an op that is armed but not yet run (the caller kept it for later) is never re-armed: a
 * fresh one is made instead.
 */
class IoOp implements Iterator<unknown, number | undefined, unknown>, Operation<number | undefined> {
  state = IDLE;
  #buf: Uint8Array | undefined;
  #off = 0;
  #len = 0;
  #done = 0;
  /** Write every byte (sendAll); the result is then undefined. */
  #all = false;
  #prevRole: AnyGreenThread | undefined;
  #timer: Timer | undefined;
  readonly #bit: number;

  constructor(readonly stream: FdStream, readonly dir: Direction) {
    this.#bit = dir === 'write' ? READY_WRITE : READY_READ;
  }

  arm(buf: Uint8Array, off: number, len: number, all: boolean): this {
    this.#buf = buf;
    this.#off = off;
    this.#len = len;
    this.#all = all;
    this.#done = 0;
    this.state = ARMED;
    return this;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, number | undefined> {
    const s = this.stream;
    const fds = s.fds;
    const write = this.dir === 'write';
    if (this.state === ARMED) {
      try {
        this.#prevRole = s.enter(this.dir);
      } catch (e) {
        this.#finish();
        throw e;
      }
      this.state = RUNNING;
    } else if (v === RESUME) {
      if (this.#timer !== undefined) {
        s.hub.cancelTimer(this.#timer);
        this.#timer = undefined;
      }
      if (s.isClosed) {
        this.#finish();
        throw s.closedError();
      }
    }
    for (;;) {
      if (this.#len === this.#done) return this.#result();
      const fd = s.rawFd;
      if (fds.isReady(fd, this.#bit) || s.nonBlocking) { // non-blocking: the kernel's word (fd-handle.ts io())
        const want = this.#len - this.#done;
        let n: number;
        try {
          // Sockets: send() with MSG_NOSIGNAL, so a closed peer is EPIPE, never a SIGPIPE.
          n = write
            ? (s.isSocket ? native.send : native.write)(fd, this.#buf!, this.#off + this.#done, want)
            : native.read(fd, this.#buf!, this.#off, want);
        } catch (e) {
          this.#finish(); // a throw (a bad range) must not leave the role taken
          throw e;
        }
        if (n >= 0) {
          // A short read or write drained the fd where that holds (fd-table.ts: not at urgent
          // data, fd-passing messages, packet pipes). End of stream (0) stays "ready". One
          // call moves at most MAX_IO bytes: that much is not short.
          if (n > 0 && n < want && n < MAX_IO && s.shortIoDrains && (write || fds.shortReadDrains(fd))) fds.clearReadiness(fd, this.#bit);
          if (write) {
            s.tx += n;
            this.#done += n;
            if (this.#all && this.#done < this.#len) continue;
          } else {
            s.rx += n;
            this.#done = n;
          }
          return this.#result();
        }
        if (n !== E.EAGAIN) {
          this.#finish();
          throw systemError(n, write ? (s.isSocket ? 'send' : 'write') : 'read');
        }
        fds.clearReadiness(fd, this.#bit);
      }
      // Would block: park until the next edge (with the stream's timeout, if any).
      const gt = s.hub.current!;
      try {
        if (s.nonBlocking) throw systemError(E.EAGAIN, write ? (s.isSocket ? 'send' : 'write') : 'read'); // setTimeout(0)
        fds.park(gt, fd, this.dir, s.refed);
      } catch (e) {
        this.#finish();
        throw e;
      }
      if (s.timeoutMs > 0) {
        const o = s.parkOptions(this.dir);
        this.#timer = s.hub.addTimer(TimerKind.Timeout, s.timeoutMs, gt, { ref: o.ref, message: o.timeoutMessage, owner: s });
      }
      return SUSPEND_RESULT;
    }
  }

  #result(): IteratorResult<unknown, number | undefined> {
    const n = this.#done;
    const all = this.#all;
    this.#finish();
    return done(all ? undefined : n);
  }

  #finish(): void {
    if (this.#timer !== undefined) {
      this.stream.hub.cancelTimer(this.#timer);
      this.#timer = undefined;
    }
    if (this.state === RUNNING) this.stream.leave(this.dir, this.#prevRole);
    this.#prevRole = undefined;
    this.#buf = undefined;
    this.state = IDLE;
  }

  throw(err: unknown): IteratorResult<unknown, number | undefined> {
    // Killed or timed out at the park: the hub has already taken us off the fd.
    this.#finish();
    throw err;
  }

  return(value?: unknown): IteratorResult<unknown, number | undefined> {
    this.#finish();
    return { done: true, value: value as number | undefined };
  }
}

/** How an FdStream treats its fd. */
export interface FdStreamOptions extends FdHandleOptions {
  /** TCP sockets and pipes greenhub made: a short read or write means drained (fd-table.ts). */
  shortIoDrains: boolean;
  /** A socket: writes go through send/sendmsg with MSG_NOSIGNAL. */
  isSocket: boolean;
}

export abstract class FdStream extends FdHandle implements GreenStream {
  /** @internal */ rx = 0;
  /** @internal */ tx = 0;
  /** @internal see FdStreamOptions */ shortIoDrains: boolean;
  /** @internal see FdStreamOptions */ readonly isSocket: boolean;
  // This stream is the reader's ByteSource (fill, enterRead, leaveRead, checkOpen: internal).
  readonly #in = new BufferedReader(this);
  #readOp: IoOp | undefined;
  #writeOp: IoOp | undefined;

  /** @internal */
  protected constructor(fd: number, options: FdStreamOptions) {
    super(fd, options);
    this.shortIoDrains = options.shortIoDrains;
    this.isSocket = options.isSocket;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.rx;
  }

  /** Bytes sent so far. */
  get bytesWritten(): number {
    return this.tx;
  }

  override close(): void {
    super.close();
    this.#in.release();
  }

  // ---------------------------------------------------------------- reading (GreenStream)

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
  recv(max = 64 * 1024): Operation<Buffer> {
    return this.#in.recv(max);
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
    return this.#in.recvInto(buf);
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
    return this.#in.readExactly(n);
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
  readUntil(delim: string | Uint8Array, options?: ReadUntilOptions): Operation<Buffer> {
    return this.#in.readUntil(delim, options);
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
  readLine(options?: ReadUntilOptions): Operation<Buffer> {
    return this.#in.readUntil('\n', options, 'readLine()');
  }

  /** @internal bytes read ahead and not yet handed out (waitAny counts them as readable) */
  get readBuffered(): number {
    return this.#in.buffered;
  }

  /** @internal bytes the read buffer holds (for tests of its memory use) */
  get readBufferCapacity(): number {
    return this.#in.capacity;
  }

  /** @internal ByteSource: one read into buf (no buffering). */
  fill(buf: Uint8Array, off: number, len: number): Operation<number> {
    let op = this.#readOp;
    if (op === undefined || op.state !== IDLE) op = op === undefined ? (this.#readOp = new IoOp(this, 'read')) : new IoOp(this, 'read');
    return op.arm(buf, off, len, false) as Operation<number>;
  }

  /** @internal ByteSource: a GreenSocket reads ahead, a GreenFd (maybe shared) does not. */
  abstract readonly readsAhead: boolean;

  /** @internal ByteSource */
  enterRead(): AnyGreenThread | undefined {
    return this.enter('read');
  }

  /** @internal ByteSource */
  leaveRead(prev: AnyGreenThread | undefined): void {
    this.leave('read', prev);
  }

  // ---------------------------------------------------------------- writing

  /**
   * Sends some of `buf`, waiting until at least one byte is taken; returns how many were.
   * Most callers want `sendAll` (which also takes a string).
   *
   * @example
   * ```ts
   * const n = yield* sock.send(buf);
   * ```
   */
  send(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return blocking(this.#arm(buf, 0, buf.length, false) as Operation<number>, 'send()');
  }

  /**
   * Sends every byte of `data`, or of each buffer of an array in order (one writev per batch,
   * no copy of the caller's buffers; an array of at most 4 KiB in all is copied into one write,
   * which is cheaper there), waiting as the peer reads. A closed peer is `EPIPE` or
   * `ECONNRESET`, never a SIGPIPE.
   *
   * @example
   * ```ts
   * yield* sock.sendAll([header, body]);
   * yield* sock.sendAll('hello\n'); // a string goes out as UTF-8
   * ```
   */
  sendAll(data: string | Uint8Array | readonly Uint8Array[]): Operation<void> {
    // A string, as Node's socket.write takes one: UTF-8, the encoding every reader here assumes.
    if (typeof data === 'string') data = Buffer.from(data, 'utf8');
    if (Array.isArray(data)) {
      let total = 0;
      data.forEach((b, i) => (total += validateBytes(b, `data[${i}]`).length));
      this.checkOpen();
      // A few small buffers (an HTTP head and body): one copy into one buffer and the
      // allocation-free write path beat a writev, its generator and its iovec array.
      if (total <= SMALL_GATHER) {
        return blocking(this.#arm(Buffer.concat(data as readonly Uint8Array[], total), 0, total, true) as Operation<void>, 'sendAll()');
      }
      return blocking(this.#writev(data as readonly Uint8Array[]), 'sendAll()');
    }
    validateBytes(data, 'data');
    this.checkOpen();
    return blocking(this.#arm(data as Uint8Array, 0, (data as Uint8Array).length, true) as Operation<void>, 'sendAll()');
  }

  #arm(buf: Uint8Array, off: number, len: number, all: boolean): IoOp {
    let op = this.#writeOp;
    if (op === undefined || op.state !== IDLE) op = op === undefined ? (this.#writeOp = new IoOp(this, 'write')) : new IoOp(this, 'write');
    return op.arm(buf, off, len, all);
  }

  /** Writes every buffer, in order, with writev; no copy. */
  *#writev(bufs: readonly Uint8Array[]): Green<void> {
    const prev = this.enter('write');
    let total = 0;
    for (const b of bufs) total += b.length;
    let index = 0;
    let offset = 0;
    const writev = this.isSocket ? native.sendv : native.writev;
    const attempt = (): number => writev(this.rawFd, bufs, index, offset);
    try {
      while (total > 0) {
        // No short-write shortcut here: writev takes at most IOV_MAX buffers per call, so a
        // complete write of those can look short. Only EAGAIN says the socket is full.
        const n = yield* this.io('write', attempt, this.isSocket ? 'sendmsg' : 'writev');
        total -= n;
        this.tx += n;
        // Advance (index, offset) past the n bytes written.
        let left = n + offset;
        while (index < bufs.length && left >= bufs[index].length) {
          left -= bufs[index].length;
          index++;
        }
        offset = left;
      }
    } finally {
      this.leave('write', prev);
    }
  }

  /**
   * A Node `stream.Duplex` over this stream (reads pumped by a greenthread with backpressure,
   * writes through sendAll, end() as a half-close where there is one, destroy() closing it),
   * for `stream.pipeline`, `tls.connect({ socket })` and the rest of Node's stream world. The
   * Duplex takes the stream over: use one or the other, not both.
   *
   * @example
   * ```ts
   * import { pipeline } from 'node:stream/promises';
   * yield* waitFor(pipeline(fs.createReadStream('big.bin'), sock.toDuplex()));
   * ```
   */
  toDuplex(): GreenDuplex {
    this.checkOpen();
    const duplex = new GreenDuplex(this);
    this.takenBy = duplex;
    return duplex;
  }

  /** @internal The Duplex that took this stream over: it closes the stream when it is done. */
  takenBy: { readonly destroyed: boolean } | undefined;
}
