/**
 * The buffered reads of every green stream (GreenSocket, GreenFd, GreenTlsSocket): `recv`,
 * `recvInto`, `readExactly`, `readUntil`, `readLine`, over one internal buffer, so they mix
 * freely (eventlet's `makefile` use). What a stream provides is a small contract, ByteSource:
 * fill a byte range, and a reader role so a second concurrent reader is refused before the
 * shared buffer is touched.
 */
import { Buffer } from 'node:buffer';
import { endOfStreamError, lineTooLongError } from '../errors';
import type { AnyGreenThread } from '../hub/greenthread';
import type { Green, Operation, ReadUntilOptions } from '../types';
import { describeValue, validateBytes, validateInt, validateOptions } from '../validate';
import { blocking } from '../operation';

/** What a BufferedReader reads from. */
export interface ByteSource {
  /** Reads up to len bytes into buf at off, waiting until at least one is there; 0 at end of stream. */
  fill(buf: Uint8Array, off: number, len: number): Operation<number>;
  /** Takes the reader role for the running greenthread (or throws the closed or role-taken error); returns the previous holder. */
  enterRead(): AnyGreenThread | undefined;
  /** Gives the reader role back. */
  leaveRead(prev: AnyGreenThread | undefined): void;
  /** Throws the closed error once closed. */
  checkOpen(): void;
  /**
   * Whether recv/readExactly may read more than they return (a socket: yes, it saves reads).
   * An fd that other processes share (stdin) says no: bytes read ahead would be lost to them.
   * readUntil/readLine always read ahead: they cannot know where the delimiter is.
   */
  readonly readsAhead: boolean;
}

const CHUNK = 64 * 1024;

/**
 * Where reads land while a reader holds nothing: one 64 KiB buffer per thread, shared by every
 * reader. Most reads (a request head, a line) are handed out whole before the reader next
 * suspends, so a connection that never reads ahead never allocates a buffer of its own: a
 * connection per request costs no 64 KiB allocation (and the GC work behind it), nor does an
 * idle one that never read ahead hold one. (A reader that did read ahead — a pipelined request,
 * a body that came with its head — keeps its own buffer from then on: dropping it when it
 * empties would cost an allocation and a copy per such request.) Safe because a greenthread runs alone until it suspends, every suspension is
 * inside a fill, and a fill starts on the shared buffer only when it holds none of this
 * reader's bytes; bytes left over when the operation ends, or before a second fill, move to the
 * reader's own buffer first (#ownLeftovers).
 */
let shared: Buffer | undefined;
const READ_UNTIL_KEYS = ['maxBytes'] as const;
const DEFAULT_MAX_LINE = 1 << 20;

export class BufferedReader {
  #buf: Buffer | undefined;
  #start = 0;
  #end = 0;
  #delimText: string | undefined;
  #delimBytes: Buffer | undefined;

  constructor(readonly source: ByteSource) {}

  /** Bytes read ahead and not yet handed out. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Drops the buffer (the stream closed). */
  release(): void {
    this.#buf = undefined;
    this.#start = this.#end = 0;
  }

  /**
   * Called as each operation ends (and before a second fill): bytes still in the shared buffer
   * move to this reader's own, which no other reader writes to.
   */
  #ownLeftovers(): void {
    if (this.#buf !== shared || this.#buf === undefined) return;
    const n = this.buffered;
    if (n === 0) {
      this.#buf = undefined;
    } else {
      const own = Buffer.allocUnsafe(CHUNK);
      this.#buf.copy(own, 0, this.#start, this.#end);
      this.#buf = own;
    }
    this.#start = 0;
    this.#end = n;
  }

  recv(max: number): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.source.checkOpen();
    return blocking(this.#recv(max), 'recv()');
  }

  recvInto(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    // 0 is the end-of-stream result: a 0-byte read could not tell it from "no data yet".
    if (buf.length === 0) throw new RangeError('buf must not be empty (0 is what recvInto returns at end of stream), got an empty buffer');
    this.source.checkOpen();
    // Data already buffered (a readLine read ahead) is handed out first; else straight to the source.
    return blocking(this.buffered > 0 ? this.#recvBuffered(buf) : this.source.fill(buf, 0, buf.length), 'recvInto()');
  }

  readExactly(n: number): Operation<Buffer> {
    validateInt(n, 'n', 0, 0x7fffffff);
    this.source.checkOpen();
    return blocking(this.#readExactly(n), 'readExactly()');
  }

  readUntil(delim: string | Uint8Array, options?: ReadUntilOptions, what = 'readUntil()'): Operation<Buffer> {
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
    if (d.length === 0) throw new RangeError(`delim must not be empty, got ${describeValue(delim)}`);
    let maxBytes = DEFAULT_MAX_LINE;
    if (options !== undefined) {
      const o = validateOptions(options, 'readUntil options', READ_UNTIL_KEYS);
      if (o.maxBytes !== undefined) maxBytes = validateInt(o.maxBytes, 'maxBytes', 1, 0x7fffffff);
    }
    this.source.checkOpen();
    return blocking(this.#readUntil(d, maxBytes), what);
  }

  // Each read takes the reader role before it touches the shared buffer, so a second concurrent
  // reader is refused first (the fills inside take it again: same holder).

  *#recv(max: number): Green<Buffer> {
    // Hand out exactly what came: no `max`-sized allocation per call (small results come from
    // Node's buffer pool); the rest stays buffered.
    const prev = this.source.enterRead();
    try {
      if (this.buffered === 0 && (yield* this.#fill(max)) === 0) return Buffer.alloc(0);
      const out = Buffer.allocUnsafe(Math.min(max, this.buffered));
      this.#take(out, 0, out.length);
      return out;
    } finally {
      this.#ownLeftovers();
      this.source.leaveRead(prev);
    }
  }

  *#recvBuffered(buf: Uint8Array): Green<number> {
    const prev = this.source.enterRead();
    this.source.leaveRead(prev);
    return this.#take(buf, 0, buf.length);
  }

  *#readExactly(n: number): Green<Buffer> {
    const prev = this.source.enterRead();
    try {
      while (this.buffered < n) {
        if ((yield* this.#fill(n - this.buffered)) === 0) throw endOfStreamError(this.buffered, n);
      }
      if (n === 0) return Buffer.alloc(0);
      const out = Buffer.allocUnsafe(n);
      this.#take(out, 0, n);
      return out;
    } finally {
      this.#ownLeftovers();
      this.source.leaveRead(prev);
    }
  }

  *#readUntil(delim: Buffer, maxBytes: number): Green<Buffer> {
    const prev = this.source.enterRead();
    try {
      let scanned = 0; // bytes already searched, so a long line is not searched again each chunk
      for (;;) {
        const avail = this.buffered;
        if (avail > 0) {
          const from = this.#start + Math.max(0, scanned - delim.length + 1);
          const i = this.#buf!.indexOf(delim, from);
          if (i >= 0 && i + delim.length <= this.#end) {
            // The same rule however the bytes arrived: a line longer than maxBytes is an error.
            if (i + delim.length - this.#start > maxBytes) throw lineTooLongError(maxBytes);
            const out = Buffer.allocUnsafe(i + delim.length - this.#start);
            this.#take(out, 0, out.length);
            return out;
          }
          scanned = avail;
        }
        // No delimiter in maxBytes or more: the line will be longer than maxBytes.
        if (avail >= maxBytes) throw lineTooLongError(maxBytes);
        // The fill inlined (this is the request-parsing hot path: one generator, not two).
        const buf = this.#prepareFill();
        const n = yield* this.source.fill(buf, this.#end, buf.length - this.#end);
        this.#end += n;
        if (n === 0) {
          const out = Buffer.allocUnsafe(this.buffered);
          this.#take(out, 0, out.length);
          return out;
        }
      }
    } finally {
      this.#ownLeftovers();
      this.source.leaveRead(prev);
    }
  }

  /** Reads more into the buffer (at most `wanted` where the source may not read ahead); returns bytes added, 0 at end of stream. */
  *#fill(wanted: number): Green<number> {
    const buf = this.#prepareFill();
    const room = buf.length - this.#end;
    const n = yield* this.source.fill(buf, this.#end, this.source.readsAhead ? room : Math.min(room, wanted));
    this.#end += n;
    return n;
  }

  /** Moves up to len buffered bytes into out at off. */
  #take(out: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.buffered);
    if (out instanceof Buffer) this.#buf!.copy(out, off, this.#start, this.#start + n);
    else out.set(this.#buf!.subarray(this.#start, this.#start + n), off);
    this.#start += n;
    if (this.#buf!.length > CHUNK) this.#shrink();
    return n;
  }

  /**
   * After a long line the buffer has grown: once what is left fits in a chunk, go back to one,
   * so a connection holds 64 KiB at most, not the longest line it ever saw.
   */
  #shrink(): void {
    const buf = this.#buf!;
    if (this.buffered > CHUNK / 2) return;
    if (this.buffered === 0) {
      this.#buf = undefined;
    } else {
      const small = Buffer.allocUnsafe(CHUNK);
      buf.copy(small, 0, this.#start, this.#end);
      this.#buf = small;
    }
    this.#end = this.buffered;
    this.#start = 0;
  }

  /** @internal bytes the buffer holds (for tests of its memory use) */
  get capacity(): number {
    return this.#buf?.length ?? 0;
  }

  /** Makes room at the end of the buffer (compacting or growing it) and returns it. */
  #prepareFill(): Buffer {
    this.#ownLeftovers(); // a fill may suspend: nothing of ours may stay in the shared buffer
    let buf = this.#buf;
    if (buf === undefined) {
      // Nothing held and no buffer of our own: read into the shared one.
      this.#start = this.#end = 0;
      return (this.#buf = shared ??= Buffer.allocUnsafe(CHUNK));
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#end === buf.length) {
      const used = this.buffered;
      if (this.#start > 0 && used <= buf.length / 2) {
        buf.copy(buf, 0, this.#start, this.#end);
      } else {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, this.#start, this.#end);
        buf = this.#buf = grown;
      }
      this.#start = 0;
      this.#end = used;
    }
    return buf;
  }
}
