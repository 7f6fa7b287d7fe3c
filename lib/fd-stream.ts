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
import type { AnyGreenThread } from './hub/greenthread';
import { READY_READ, READY_WRITE, getHub } from './hub/hub';
import { waitFdReady } from './hub/fd-wait';
import { E, native, systemError } from './native';
import type { Green } from './types';
import { describeValue, validateMs } from './validate';

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

export abstract class FdStream {
  /** @internal */ protected readonly hub = getHub();
  /** @internal */ protected _fd: number;
  #closed = false;
  #refed = true;
  #timeoutMs = 0;
  #bytesRead = 0;
  #bytesWritten = 0;
  #reader: AnyGreenThread | undefined;
  #writer: AnyGreenThread | undefined;
  /** Stream sockets and pipes: a short read/write means drained. */
  readonly #streamLike: boolean;
  /** User fds may be duplicated elsewhere: deregister explicitly on close. */
  readonly #removeOnClose: boolean;

  /** @internal */
  protected constructor(fd: number, streamLike: boolean, removeOnClose: boolean, registered: boolean) {
    this._fd = fd;
    this.#streamLike = streamLike;
    this.#removeOnClose = removeOnClose;
    if (!registered) this.hub.registerFd(fd);
  }

  /** @internal what this is, for messages ("socket", "fd 7") */
  protected abstract describe(): string;
  /** @internal the error every call gets once closed */
  protected abstract closedError(): Error;

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this.#closed ? -1 : this._fd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes sent so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Every blocking call on this object throws TimeoutError (`ETIMEDOUT`) once it has waited
   * `ms` for readiness; 0 (the default) waits for ever.
   */
  setTimeout(ms: number): this {
    this.#timeoutMs = validateMs(ms, 'ms');
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
    this.#refed = ref;
    if (this.#reader) this.hub.setFdWaitRef(this.#reader, ref);
    if (this.#writer) this.hub.setFdWaitRef(this.#writer, ref);
  }

  /**
   * Closes the fd. Idempotent. Every greenthread blocked on it is woken with the closed error.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
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
    if (this.#closed) throw this.closedError();
  }

  #enter(write: boolean): AnyGreenThread | undefined {
    if (this.#closed) throw this.closedError();
    const cur = this.hub.requireCurrent(`${this.describe()} I/O`);
    const other = write ? this.#writer : this.#reader;
    if (other !== undefined && other !== cur && !other.dead) {
      throw new Error(`${this.describe()} already has a ${write ? 'writer' : 'reader'}: greenthread ${other.id} (${other.name}); one at a time`);
    }
    if (write) this.#writer = cur;
    else this.#reader = cur;
    return other;
  }

  #park(write: boolean): Green<number> {
    const ms = this.#timeoutMs > 0 ? this.#timeoutMs : -1;
    return waitFdReady(this.hub, this._fd, write, this.#refed, ms,
      `${this.describe()} ${write ? 'write' : 'read'} timed out after ${this.#timeoutMs} ms`);
  }

  /** @internal Reads up to len bytes into buf at off; 0 at end of stream. */
  protected *ioRead(buf: Uint8Array, off: number, len: number): Green<number> {
    const prev = this.#enter(false);
    const hub = this.hub;
    try {
      for (;;) {
        const fd = this._fd;
        if (hub.readiness(fd) & READY_READ) {
          const n = native.read(fd, buf, off, len);
          if (n >= 0) {
            // A short read drained a stream; end of stream (0) stays "ready": no edge will follow.
            if (n > 0 && n < len && this.#streamLike) hub.clearReadiness(fd, READY_READ);
            this.#bytesRead += n;
            return n;
          }
          if (n !== E.EAGAIN) throw systemError(n, 'read');
          hub.clearReadiness(fd, READY_READ);
        }
        yield* this.#park(false);
        if (this.#closed) throw this.closedError();
      }
    } finally {
      this.#reader = prev;
    }
  }

  /** @internal Writes some of buf[off, off+len) (at least 1 byte unless len is 0). */
  protected *ioWrite(buf: Uint8Array, off: number, len: number): Green<number> {
    if (len === 0) return 0;
    const prev = this.#enter(true);
    const hub = this.hub;
    try {
      for (;;) {
        const fd = this._fd;
        if (hub.readiness(fd) & READY_WRITE) {
          const n = native.write(fd, buf, off, len);
          if (n >= 0) {
            if (n < len && this.#streamLike) hub.clearReadiness(fd, READY_WRITE);
            this.#bytesWritten += n;
            return n;
          }
          if (n !== E.EAGAIN) throw systemError(n, 'write');
          hub.clearReadiness(fd, READY_WRITE);
        }
        yield* this.#park(true);
        if (this.#closed) throw this.closedError();
      }
    } finally {
      this.#writer = prev;
    }
  }

  /** @internal Writes all of buf. */
  protected *ioWriteAll(buf: Uint8Array): Green<void> {
    let off = 0;
    while (off < buf.length) off += yield* this.ioWrite(buf, off, buf.length - off);
  }

  /** @internal Writes every buffer, in order, with writev; no copy. */
  protected *ioWritev(bufs: readonly Uint8Array[]): Green<void> {
    const prev = this.#enter(true);
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
            this.#bytesWritten += n;
            if (total > 0 && this.#streamLike) hub.clearReadiness(fd, READY_WRITE);
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
        if (this.#closed) throw this.closedError();
      }
    } finally {
      this.#writer = prev;
    }
  }
}
