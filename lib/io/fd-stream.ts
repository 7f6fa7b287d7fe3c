/**
 * The I/O loop shared by GreenSocket and GreenFd (internal).
 *
 * DESIGN.md's performance rule, in one place: try the syscall first, and park the greenthread
 * only when it would block. The hub's readiness cache says whether trying is worth it: an event
 * sets it; EAGAIN clears it; for stream sockets and pipes a short read or write clears it too (the
 * kernel had no more), which saves the read that would only return EAGAIN. Other fds are
 * drained to EAGAIN. Edge-triggered registration makes this free of lost wake-ups: data that
 * arrives after the syscall came back empty produces a new edge.
 */
import type { AnyGreenThread } from '../hub/greenthread';
import { READY_READ, READY_WRITE, getHub } from '../hub/hub';
import { RESUME, SUSPEND_RESULT, done } from '../hub/instructions';
import { type Timer, TimerKind } from '../hub/timers';
import { waitFdReady } from '../hub/fd-wait';
import { E, native, systemError } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateMs } from '../validate';

/** A Node-style error for a call on something already closed (`code` names what). */
export function closedError(what: string, code: string): Error & { code: string } {
  const err = new Error(`${what} is closed`) as Error & { code: string };
  err.code = code;
  return err;
}

/** Checks a payload: a Buffer or Uint8Array. */
export function validateBytes(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Buffer or Uint8Array, got ${describeValue(v)}`);
  return v;
}

const IDLE = 0;
const ARMED = 1;
const RUNNING = 2;

/**
 * One read or write on a stream, as a hand-written iterator: the hot path of green I/O (an echo
 * round trip is one read and one write) allocates nothing. Each stream keeps one read and one
 * write op and re-arms it; an op that is armed but not yet run (the caller kept it for later)
 * is never re-armed: a fresh one is made instead.
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

  constructor(readonly stream: FdStream, readonly write: boolean) {}

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
    const hub = s.hub;
    if (this.state === ARMED) {
      try {
        this.#prevRole = s._enter(this.write);
      } catch (e) {
        this.#finish();
        throw e;
      }
      this.state = RUNNING;
    } else if (v === RESUME) {
      if (this.#timer !== undefined) {
        hub.cancelTimer(this.#timer);
        this.#timer = undefined;
      }
      if (s._closed) {
        this.#finish();
        throw s._closedError();
      }
    }
    const bit = this.write ? READY_WRITE : READY_READ;
    for (;;) {
      if (this.#len === this.#done) return this.#result();
      const fd = s._fd;
      if (hub.readiness(fd) & bit) {
        const want = this.#len - this.#done;
        const n = this.write ? native.write(fd, this.#buf!, this.#off + this.#done, want) : native.read(fd, this.#buf!, this.#off, want);
        if (n >= 0) {
          // A short read or write drained a stream. End of stream (0) stays "ready": no edge follows it.
          if (n > 0 && n < want && s._streamLike) hub.clearReadiness(fd, bit);
          if (this.write) {
            s._bytesWritten += n;
            this.#done += n;
            if (this.#all && this.#done < this.#len) continue;
          } else {
            s._bytesRead += n;
            this.#done = n;
          }
          return this.#result();
        }
        if (n !== E.EAGAIN) {
          this.#finish();
          throw systemError(n, this.write ? 'write' : 'read');
        }
        hub.clearReadiness(fd, bit);
      }
      // Would block: park until the next edge (with the stream's timeout, if any).
      const gt = hub.current!;
      try {
        hub.waitFd(gt, fd, this.write, s._refed);
      } catch (e) {
        this.#finish();
        throw e;
      }
      if (s._timeoutMs > 0) {
        this.#timer = hub.addTimer(s._timeoutMs, TimerKind.Timeout, gt, undefined, s._refed,
          `${s._describe()} ${this.write ? 'write' : 'read'} timed out after ${s._timeoutMs} ms`);
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
    if (this.state === RUNNING) this.stream._leave(this.write, this.#prevRole);
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

export abstract class FdStream {
  /** @internal */ readonly hub = getHub();
  /** @internal */ _fd: number;
  /** @internal */ _closed = false;
  /** @internal */ _refed = true;
  /** @internal */ _timeoutMs = 0;
  /** @internal */ _bytesRead = 0;
  /** @internal */ _bytesWritten = 0;
  /** @internal Stream sockets and pipes: a short read/write means drained. */ readonly _streamLike: boolean;
  #reader: AnyGreenThread | undefined;
  #writer: AnyGreenThread | undefined;
  /** User fds may be duplicated elsewhere: deregister explicitly on close. */
  readonly #removeOnClose: boolean;
  #readOp: IoOp | undefined;
  #writeOp: IoOp | undefined;

  /** @internal */
  protected constructor(fd: number, streamLike: boolean, removeOnClose: boolean, registered: boolean) {
    this._fd = fd;
    this._streamLike = streamLike;
    this.#removeOnClose = removeOnClose;
    if (!registered) this.hub.registerFd(fd);
  }

  /** @internal what this is, for messages ("socket", "fd 7") */
  protected abstract describe(): string;
  /** @internal the error every call gets once closed */
  protected abstract closedError(): Error;

  /** @internal */
  _describe(): string {
    return this.describe();
  }

  /** @internal */
  _closedError(): Error {
    return this.closedError();
  }

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this._closed ? -1 : this._fd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this._closed;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this._bytesRead;
  }

  /** Bytes sent so far. */
  get bytesWritten(): number {
    return this._bytesWritten;
  }

  /**
   * Every blocking call on this object throws TimeoutError (`ETIMEDOUT`) once it has waited
   * `ms` for readiness; 0 (the default) waits for ever.
   */
  setTimeout(ms: number): this {
    this._timeoutMs = validateMs(ms, 'ms');
    return this;
  }

  /** Its blocking calls hold the process open (the default). */
  ref(): this {
    this.#setRef(true);
    return this;
  }

  /** Its blocking calls do not hold the process open. */
  unref(): this {
    this.#setRef(false);
    return this;
  }

  #setRef(ref: boolean): void {
    this._refed = ref;
    if (this.#reader) this.hub.setFdWaitRef(this.#reader, ref);
    if (this.#writer) this.hub.setFdWaitRef(this.#writer, ref);
  }

  /**
   * Closes the fd. Idempotent. Every greenthread blocked on it is woken with the closed error.
   */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    const fd = this._fd;
    this.hub.closeFd(fd, this.closedError(), this.#removeOnClose);
    this.onClose(fd);
  }

  /** @internal releases the fd itself (subclasses may not own it) */
  protected onClose(fd: number): void {
    native.close(fd);
  }

  /** @internal throws when closed */
  protected checkOpen(): void {
    if (this._closed) throw this.closedError();
  }

  /** @internal Takes the reader (or writer) role for the running greenthread; returns the previous holder. */
  _enter(write: boolean): AnyGreenThread | undefined {
    if (this._closed) throw this.closedError();
    const cur = this.hub.current ?? this.hub.requireCurrent(`${this.describe()} I/O`);
    const other = write ? this.#writer : this.#reader;
    if (other !== undefined && other !== cur && !other.dead) {
      throw new Error(`${this.describe()} already has a ${write ? 'writer' : 'reader'}: greenthread ${other.id} (${other.name}); one at a time`);
    }
    if (write) this.#writer = cur;
    else this.#reader = cur;
    return other;
  }

  /** @internal Gives the role back. */
  _leave(write: boolean, prev: AnyGreenThread | undefined): void {
    if (write) this.#writer = prev;
    else this.#reader = prev;
  }

  #park(write: boolean): Green<number> {
    const ms = this._timeoutMs > 0 ? this._timeoutMs : -1;
    return waitFdReady(this.hub, this._fd, write, this._refed, ms,
      `${this.describe()} ${write ? 'write' : 'read'} timed out after ${this._timeoutMs} ms`);
  }

  /** @internal Reads up to len bytes into buf at off; 0 at end of stream. */
  protected ioRead(buf: Uint8Array, off: number, len: number): Operation<number> {
    let op = this.#readOp;
    if (op === undefined || op.state !== IDLE) op = op === undefined ? (this.#readOp = new IoOp(this, false)) : new IoOp(this, false);
    return op.arm(buf, off, len, false) as Operation<number>;
  }

  /** @internal Writes some of buf[off, off+len) (at least 1 byte unless len is 0). */
  protected ioWrite(buf: Uint8Array, off: number, len: number): Operation<number> {
    return this.#arm(buf, off, len, false) as Operation<number>;
  }

  /** @internal Writes all of buf. */
  protected ioWriteAll(buf: Uint8Array): Operation<void> {
    return this.#arm(buf, 0, buf.length, true) as Operation<void>;
  }

  #arm(buf: Uint8Array, off: number, len: number, all: boolean): IoOp {
    let op = this.#writeOp;
    if (op === undefined || op.state !== IDLE) op = op === undefined ? (this.#writeOp = new IoOp(this, true)) : new IoOp(this, true);
    return op.arm(buf, off, len, all);
  }

  /** @internal Writes every buffer, in order, with writev; no copy. */
  protected *ioWritev(bufs: readonly Uint8Array[]): Green<void> {
    const prev = this._enter(true);
    const hub = this.hub;
    let total = 0;
    for (const b of bufs) total += b.length;
    let index = 0;
    let offset = 0;
    try {
      while (total > 0) {
        const fd = this._fd;
        if (hub.readiness(fd) & READY_WRITE) {
          const n = native.writev(fd, bufs, index, offset);
          if (n >= 0) {
            total -= n;
            this._bytesWritten += n;
            // No short-write shortcut here: writev takes at most IOV_MAX buffers per call, so a
            // complete write of those can look short. Only EAGAIN says the socket is full.
            // Advance (index, offset) past the n bytes written.
            let left = n + offset;
            while (index < bufs.length && left >= bufs[index].length) {
              left -= bufs[index].length;
              index++;
            }
            offset = left;
            continue;
          }
          if (n !== E.EAGAIN) throw systemError(n, 'writev');
          hub.clearReadiness(fd, READY_WRITE);
        }
        yield* this.#park(true);
        if (this._closed) throw this.closedError();
      }
    } finally {
      this.#writer = prev;
    }
  }
}
