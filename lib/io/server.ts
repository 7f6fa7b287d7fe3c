/**
 * listen() and GreenServer: a listening socket whose accept() blocks greenthread-style.
 */
import * as fs from 'node:fs';
import { type AddressInfo, ipFamily, toAddressInfo, validatePort } from './address';
import { adoptableSocket } from './adopt';
import { closedError } from './fd-stream';
import { waitFdReady } from '../hub/fd-wait';
import type { AnyGreenThread } from '../hub/greenthread';
import { READY_READ, getHub } from '../hub/hub';
import { SUSPEND_OP } from '../hub/instructions';
import { TimerKind } from '../hub/timers';
import { E, K, check, native, systemError } from '../native';
import { GreenSocket } from './socket';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateMs } from '../validate';

/**
 * What to listen on: TCP (`host`, an IP literal, default `127.0.0.1`; `port`, 0 picks a free
 * one) or Unix (`path`).
 *
 * @example
 * ```ts
 * const opts: ListenOptions = { host: '::1', port: 0, backlog: 1024, reusePort: true };
 * ```
 */
export interface ListenOptions {
  host?: string;
  port?: number;
  /** A Unix socket path instead of host/port. */
  path?: string;
  /** Length of the kernel's accept queue (default 511, as Node's). */
  backlog?: number;
  /** SO_REUSEPORT: several listeners (one hub per thread or process) share the port. */
  reusePort?: boolean;
}

/** Back-off after EMFILE/ENFILE: no new edge will come for connections already queued. */
const ACCEPT_BACKOFF_MS = 50;

/**
 * A listening socket. `accept()` waits for the next connection.
 *
 * @example
 * ```ts
 * const server = listen({ port: 0 });
 * console.log(server.address().port);
 * const conn = yield* server.accept();
 * ```
 */
export class GreenServer {
  readonly #hub = getHub();
  readonly #fd: number;
  readonly #af: number;
  readonly #path: string | undefined;
  #closed = false;
  #refed = true;
  #acceptor: AnyGreenThread | undefined;
  #backingOff = false;

  readonly #unlinkOnClose: boolean;

  /** @internal use listen() or listenFd() */
  /** Adopted (listenFd): another process may hold the same socket. */
  readonly #shared: boolean;
  readonly #onClose: Array<() => void> = [];

  constructor(fd: number, af: number, path: string | undefined, unlinkOnClose = true) {
    this.#fd = fd;
    this.#af = af;
    this.#path = path;
    this.#unlinkOnClose = unlinkOnClose;
    this.#shared = !unlinkOnClose;
    this.#hub.registerFd(fd);
  }

  /** The listening fd (-1 once closed). */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** `{ address, family, port }` it listens on (for Unix: the path, family 'Unix', port 0). */
  address(): AddressInfo {
    if (this.#closed) throw closedError('server', 'ERR_SERVER_NOT_RUNNING');
    if (this.#path !== undefined) return { address: this.#path, family: 'Unix', port: 0 };
    const a = native.getsockname(this.#fd);
    if (typeof a === 'number') throw systemError(a, 'getsockname');
    return toAddressInfo(a);
  }

  /**
   * Waits for the next connection and returns it as a GreenSocket. A connection reset before
   * it was accepted is skipped. Out of fds (EMFILE/ENFILE), it backs off on a timer and tries
   * again, with one warning per episode.
   *
   * @throws the closed error (`ERR_SERVER_NOT_RUNNING`) once close() is called, TimeoutError past timeoutMs.
   * @example
   * ```ts
   * for (;;) {
   *   const conn = yield* server.accept();
   *   spawn(handle, conn);
   * }
   * ```
   */
  accept(options: { timeoutMs?: number } = {}): Operation<GreenSocket> {
    const timeoutMs = options.timeoutMs === undefined ? -1 : validateMs(options.timeoutMs, 'timeoutMs');
    if (this.#closed) throw closedError('server', 'ERR_SERVER_NOT_RUNNING');
    return this.#accept(timeoutMs);
  }

  *#accept(timeoutMs: number): Green<GreenSocket> {
    const hub = this.#hub;
    const cur = hub.requireCurrent('accept()');
    if (this.#acceptor !== undefined && this.#acceptor !== cur && !this.#acceptor.dead) {
      throw new Error(`server already has an acceptor: greenthread ${this.#acceptor.id} (${this.#acceptor.name})`);
    }
    this.#acceptor = cur;
    const deadline = timeoutMs >= 0 ? hub.addTimer(timeoutMs, TimerKind.Timeout, cur, undefined, this.#refed, `accept timed out after ${timeoutMs} ms`) : undefined;
    try {
      for (;;) {
        if (this.#closed) throw closedError('server', 'ERR_SERVER_NOT_RUNNING');
        if (hub.readiness(this.#fd) & READY_READ) {
          const c = native.accept4(this.#fd);
          if (c >= 0) {
            if (this.#backingOff) this.#backingOff = false;
            try {
              return new GreenSocket(c, this.#af);
            } catch (e) {
              native.close(c); // could not register it: do not leak it
              throw e;
            }
          }
          if (c === E.EAGAIN) {
            hub.clearReadiness(this.#fd, READY_READ);
          } else if (c === E.ECONNABORTED || c === -71 /* EPROTO */) {
            continue; // reset before we accepted it: take the next
          } else if (c === E.EMFILE || c === E.ENFILE || c === E.ENOBUFS || c === E.ENOMEM) {
            if (!this.#backingOff) {
              this.#backingOff = true;
              hub.warn(`accept: ${systemError(c, 'accept').code} (out of file descriptors); retrying every ${ACCEPT_BACKOFF_MS} ms until some are free`);
            }
            yield* this.#sleep(ACCEPT_BACKOFF_MS);
            continue;
          } else {
            throw systemError(c, 'accept');
          }
        }
        yield* waitFdReady(hub, this.#fd, false, this.#refed, -1, '');
      }
    } finally {
      if (deadline) hub.cancelTimer(deadline);
      if (this.#acceptor === cur) this.#acceptor = undefined;
    }
  }

  *#sleep(ms: number): Green<void> {
    const hub = this.#hub;
    const gt = hub.requireCurrent('accept()');
    hub.sleepCurrent(gt, ms, this.#refed);
    yield* SUSPEND_OP as Iterator<unknown, void, unknown> & Iterable<unknown>;
  }

  /** Stops listening. Idempotent. A greenthread blocked in accept() gets the closed error. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.closeFd(this.#fd, closedError('server', 'ERR_SERVER_NOT_RUNNING'), this.#shared);
    for (const cb of this.#onClose.splice(0)) cb();
    native.close(this.#fd);
    if (this.#unlinkOnClose && this.#path !== undefined && this.#path !== '' && !this.#path.startsWith('\0')) {
      try {
        fs.unlinkSync(this.#path);
      } catch {
        /* already gone */
      }
    }
  }

  /** @internal Runs cb when the server closes (serve() parked at its concurrency limit). */
  onClose(cb: () => void): void {
    if (this.#closed) cb();
    else this.#onClose.push(cb);
  }

  /** A waiting accept() holds the process open (the default). */
  ref(): this {
    this.#refed = true;
    if (this.#acceptor) this.#hub.setFdWaitRef(this.#acceptor, true);
    return this;
  }

  /** A waiting accept() does not hold the process open. */
  unref(): this {
    this.#refed = false;
    if (this.#acceptor) this.#hub.setFdWaitRef(this.#acceptor, false);
    return this;
  }
}

/**
 * Opens a listening socket, TCP (SO_REUSEADDR on) or Unix. A plain call: it does not block.
 *
 * @throws TypeError/RangeError for bad options (before any syscall); a system error such as
 *   `EADDRINUSE` (with `address` and `port`) from bind or listen.
 * @example
 * ```ts
 * import { listen, spawn } from 'greenhub';
 * const server = listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export function listen(options: ListenOptions = {}): GreenServer {
  if (options === null || typeof options !== 'object') throw new TypeError(`listen options must be an object, got ${describeValue(options)}`);
  const backlog = options.backlog === undefined ? 511 : validateInt(options.backlog, 'backlog', 0, 0x7fffffff);
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError(`path must be a non-empty string, got ${describeValue(options.path)}`);
    const fd = check(native.socket(K.AF_UNIX, K.SOCK_STREAM), 'socket');
    const r1 = native.bind(fd, K.AF_UNIX, options.path, 0);
    const r = r1 < 0 ? r1 : native.listen(fd, backlog);
    if (r < 0) {
      native.close(fd);
      throw systemError(r, r1 < 0 ? 'bind' : 'listen', { address: options.path });
    }
    return new GreenServer(fd, K.AF_UNIX, options.path);
  }
  const host = options.host ?? '127.0.0.1';
  const af = ipFamily(host);
  const port = validatePort(options.port ?? 0);
  if (options.reusePort !== undefined && typeof options.reusePort !== 'boolean') throw new TypeError('reusePort must be a boolean');
  const fd = check(native.socket(af, K.SOCK_STREAM), 'socket');
  let r = native.setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
  let syscall = 'setsockopt';
  if (r >= 0 && options.reusePort) r = native.setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEPORT, 1);
  if (r >= 0) {
    syscall = 'bind';
    r = native.bind(fd, af, host, port);
  }
  if (r >= 0) {
    syscall = 'listen';
    r = native.listen(fd, backlog);
  }
  if (r < 0) {
    native.close(fd);
    throw systemError(r, syscall, { address: host, port });
  }
  return new GreenServer(fd, af, undefined);
}

/**
 * Adopts a listening socket the process already owns (systemd socket activation, a parent that
 * bound a privileged port): made non-blocking, registered, owned from now on. A Unix socket's
 * file is left in place on close (it was not ours to create).
 *
 * @throws TypeError when fd is not a listening stream socket.
 * @example
 * ```ts
 * const server = listenFd(3); // LISTEN_FDS from systemd start at 3
 * yield* serve(server, handler);
 * ```
 */
export function listenFd(fd: number): GreenServer {
  const { af, path } = adoptableSocket(fd, true, 'listenFd');
  return new GreenServer(fd, af, path, false);
}
