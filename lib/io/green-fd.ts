/**
 * GreenFd and pipe(): blocking-style I/O on any pollable fd the user owns.
 */
import { statFd } from './adopt';
import { FdStream, closedError, validateBytes } from './fd-stream';
import { K, check, native } from '../native';
import type { Green, Operation } from '../types';
import { validateFd, validateInt } from '../validate';

/**
 * Options of {@link GreenFd}.
 *
 * @example
 * ```ts
 * const f = new GreenFd(fd, { close: false }); // close() leaves the fd open
 * ```
 */
export interface GreenFdOptions {
  /** Whether close() closes the fd itself (default true: the GreenFd owns it from now on). */
  close?: boolean;
}

/**
 * Blocking-style reads and writes on an fd you own: a pipe, a tty, a character device, an
 * eventfd, a socket from elsewhere. It is made non-blocking — note that O_NONBLOCK belongs to
 * the open file, so every other holder of the same file (a dup, a parent process) sees it too.
 * Regular files cannot be polled: they are a clear error (read them with tpool or Node's fs).
 *
 * @example
 * ```ts
 * const tty = new GreenFd(0); // stdin
 * const chunk = yield* tty.read(1024);
 * ```
 */
export class GreenFd extends FdStream {
  readonly #closeFd: boolean;

  constructor(fd: number, options: GreenFdOptions = {}) {
    validateFd(fd);
    const stat = statFd(fd);
    if (stat.isFile() || stat.isDirectory()) {
      throw new TypeError(`GreenFd: fd ${fd} is a regular ${stat.isFile() ? 'file' : 'directory'}, which epoll cannot wait on; read it with Node's fs or tpool`);
    }
    check(native.setNonBlocking(fd), 'fcntl');
    // Pipes and sockets report a short read when drained; other fds are drained to EAGAIN.
    const streamSocket = stat.isSocket() && native.getsockopt(fd, K.SOL_SOCKET, K.SO_TYPE) === K.SOCK_STREAM;
    super(fd, stat.isFIFO() || streamSocket, true, false);
    this.#closeFd = options.close !== false;
  }

  /** @internal */
  protected describe(): string {
    return `fd ${this._fd}`;
  }

  /** @internal */
  protected closedError(): Error {
    return closedError('GreenFd', 'ERR_FD_CLOSED');
  }

  /** @internal */
  protected override onClose(fd: number): void {
    if (this.#closeFd) native.close(fd);
  }

  /**
   * Reads up to `max` bytes (default 64 KiB), waiting until some are there; an empty Buffer at
   * end of file.
   *
   * @example
   * ```ts
   * const data = yield* reader.read();
   * ```
   */
  read(max = 64 * 1024): Operation<Buffer> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.checkOpen();
    return this.#read(max);
  }

  *#read(max: number): Green<Buffer> {
    const buf = Buffer.allocUnsafe(max);
    const n = yield* this.ioRead(buf, 0, max);
    return n === max ? buf : Buffer.from(buf.subarray(0, n));
  }

  /**
   * Reads into `buf`; returns the count, 0 at end of file.
   *
   * @example
   * ```ts
   * const n = yield* reader.readInto(buf);
   * ```
   */
  readInto(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return this.ioRead(buf, 0, buf.length);
  }

  /**
   * Writes some of `buf`, waiting until at least one byte is taken; returns the count.
   *
   * @example
   * ```ts
   * const n = yield* writer.write(buf);
   * ```
   */
  write(buf: Uint8Array): Operation<number> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return this.ioWrite(buf, 0, buf.length);
  }

  /**
   * Writes every byte of `buf`, waiting as the reader drains.
   *
   * @example
   * ```ts
   * yield* writer.writeAll(Buffer.from('hello\n'));
   * ```
   */
  writeAll(buf: Uint8Array): Operation<void> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return this.ioWriteAll(buf);
  }
}

/**
 * A pipe whose two ends are GreenFds: `[readEnd, writeEnd]`, both non-blocking, close-on-exec.
 *
 * @example
 * ```ts
 * const [r, w] = pipe();
 * spawn(function* () { yield* w.writeAll(Buffer.from('ping')); w.close(); });
 * const got = yield* r.read(); // <Buffer 70 69 6e 67>
 * ```
 */
export function pipe(): [GreenFd, GreenFd] {
  const fds = new Int32Array(2);
  check(native.pipe2(fds), 'pipe2');
  return [new GreenFd(fds[0]), new GreenFd(fds[1])];
}
