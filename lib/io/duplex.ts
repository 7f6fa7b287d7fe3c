/**
 * A green stream (GreenSocket, GreenFd) → Node `stream.Duplex`, so `stream.pipeline`, `tls.connect({ socket })` and
 * `new tls.TLSSocket(duplex, { isServer: true })` work on green sockets.
 */
import { Duplex } from 'node:stream';
import { isGreenletExit } from '../errors';
import { getHub } from '../hub/hub';
import type { AnyGreenThread } from '../hub/greenthread';
import { Wakeup } from '../sync/wakeup';
import { spawn } from '../spawn';
import type { Green, GreenStream } from '../types';

interface Pending {
  chunk: Buffer;
  cb: (err?: Error | null) => void;
}

/**
 * A Duplex over a green stream (what `toDuplex()` returns). Reads are pumped by a greenthread
 * that stops while the stream's buffer is full (push() returned false) and goes on at the next
 * _read(): backpressure holds. Writes go through `sendAll` in order, each callback called once
 * its bytes are in the kernel. end() half-closes a socket (`shutdown('write')`) and closes a
 * GreenFd; destroy() closes the stream; errors propagate.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * yield* waitFor(pipeline(sock.toDuplex(), fs.createWriteStream('upload.bin')));
 * ```
 */
export class GreenDuplex extends Duplex {
  /** The green stream underneath. */
  readonly stream: GreenStream & { shutdown?(how: 'write'): void };
  #wantRead = false;
  #pump: AnyGreenThread | undefined;
  readonly #readWake = new Wakeup('Duplex (reader waits for _read)');
  readonly #queue: Pending[] = [];
  #final: ((err?: Error | null) => void) | undefined;
  #writer: AnyGreenThread | undefined;
  readonly #writeWake = new Wakeup('Duplex (writer waits for data)');

  /** The stream underneath, under its earlier name (a GreenSocket's Duplex). */
  get socket(): GreenStream {
    return this.stream;
  }

  /** @internal use toDuplex() */
  constructor(stream: GreenStream & { shutdown?(how: 'write'): void }) {
    super({ allowHalfOpen: true });
    this.stream = stream;
  }

  override _read(): void {
    this.#wantRead = true;
    if (this.#pump === undefined) this.#pump = spawn({ name: 'duplex reader' }, () => this.#readLoop());
    else this.#readWake.notify();
  }

  *#readLoop(): Green<void> {
    try {
      for (;;) {
        while (!this.#wantRead) yield* this.#readWake.wait();
        const chunk = yield* this.stream.recv(64 * 1024);
        if (this.destroyed) return;
        if (chunk.length === 0) {
          this.push(null);
          return;
        }
        this.#wantRead = this.push(chunk);
        if (this.destroyed) return;
      }
    } catch (e) {
      // Killed by our own _destroy: nothing to report.
      if (!this.destroyed && !isGreenletExit(e)) this.destroy(e as Error);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#queue.push({ chunk, cb });
    this.#kickWriter();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#final = cb;
    this.#kickWriter();
  }

  #kickWriter(): void {
    if (this.#writer === undefined) this.#writer = spawn({ name: 'duplex writer' }, () => this.#writeLoop());
    else this.#writeWake.notify();
  }

  *#writeLoop(): Green<void> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        try {
          yield* this.stream.sendAll(next.chunk);
          next.cb();
          if (this.destroyed) return;
        } catch (e) {
          if (!isGreenletExit(e)) next.cb(e as Error); // killed by _destroy: the stream is gone
          return;
        }
        continue;
      }
      if (this.#final !== undefined) {
        const cb = this.#final;
        this.#final = undefined;
        try {
          // A socket half-closes; an fd with no half-close (a pipe) is closed.
          if (this.stream.shutdown) this.stream.shutdown('write');
          else this.stream.close();
          cb();
        } catch (e) {
          cb(e as Error);
        }
        return;
      }
      yield* this.#writeWake.wait();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // destroy() may be called from inside our own pump or writer (push() and write callbacks
    // run Node's stream code synchronously): that one ends by itself when it sees `destroyed`;
    // killing the running greenthread would throw out of destroy().
    const cur = getHub().current;
    if (this.#pump !== cur) this.#pump?.kill();
    if (this.#writer !== cur) this.#writer?.kill();
    this.stream.close();
    cb(err);
  }
}
