/**
 * listen() and GreenServer: a listening socket whose accept() blocks greenthread-style.
 */
import * as fs from 'node:fs';
import { GreenletExit, closedError, systemError } from '../errors';
import type { AnyGreenThread } from '../hub/greenthread';
import { SUSPEND_OP } from '../hub/instructions';
import { TimerKind, timeoutOwner } from '../hub/timers';
import { Wakeup } from '../sync/wakeup';
import { E, K, check, native } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateBoolean, validateInt, validateMs, validateOptions } from '../validate';
import { type AddressInfo, ipFamily, toAddressInfo, validatePort } from './address';
import { adoptableSocket } from './adopt';
import { FdHandle, type FdHandleOptions } from './fd-handle';
import { GreenSocket } from './socket';
import { blocking } from '../operation';

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

/** Out of fds or memory: accept again after a back-off, not at once. */
function outOfResources(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM';
}

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
export class GreenServer extends FdHandle {
  readonly #af: number;
  readonly #path: string | undefined;
  readonly #unlinkOnClose: boolean;
  #backingOff = false;
  readonly #onClose: Array<() => void> = [];
  /** The handler greenthreads serve() runs for this server (for shutdown()). */
  readonly #handlers = new Set<AnyGreenThread>();
  /** Where shutdown() waits for handlers to end (made on first use). */
  #handlerEnded: Wakeup | undefined;
  /** One accept4, skipping connections reset before we took them. */
  readonly #acceptOnce = (): number => {
    let c: number;
    do c = native.accept4(this.rawFd);
    while (c === E.ECONNABORTED || c === E.EPROTO);
    return c;
  };

  /** @internal use listen() or listenFd() */
  constructor(fd: number, af: number, path: string | undefined, options: FdHandleOptions) {
    super(fd, options, 'acceptor');
    this.#af = af;
    this.#path = path;
    // An adopted Unix socket's file was not ours to create: leave it in place.
    this.#unlinkOnClose = !options.adopted;
  }

  /** @internal */
  describe(): string {
    return 'server';
  }

  /** @internal */
  closedError(): Error {
    return closedError('server', 'ERR_SERVER_NOT_RUNNING');
  }

  /** @internal */
  protected override verb(): string {
    return 'accept';
  }

  /** `{ address, family, port }` it listens on (for Unix: the path, family 'Unix', port 0). */
  address(): AddressInfo {
    this.checkOpen();
    if (this.#path !== undefined) return { address: this.#path, family: 'Unix', port: 0 };
    const a = native.getsockname(this.rawFd);
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
  accept(options?: { timeoutMs?: number }): Operation<GreenSocket> {
    const o = validateOptions(options, 'accept options', ['timeoutMs']);
    const timeoutMs = o.timeoutMs === undefined ? -1 : validateMs(o.timeoutMs, 'timeoutMs');
    this.checkOpen();
    return blocking(this.#accept(timeoutMs), 'accept()');
  }

  *#accept(timeoutMs: number): Green<GreenSocket> {
    const hub = this.hub;
    const prev = this.enter('read', 'accept()');
    const gt = hub.current!;
    const deadline = timeoutMs >= 0 ? hub.addTimer(TimerKind.Timeout, timeoutMs, gt, { ref: this.refed, message: `accept timed out after ${timeoutMs} ms` }) : undefined;
    try {
      for (;;) {
        let c: number;
        try {
          c = yield* this.io('read', this.#acceptOnce, 'accept');
        } catch (e) {
          if (!outOfResources(e)) throw e;
          if (!this.#backingOff) {
            this.#backingOff = true;
            hub.warn(`accept: ${(e as { code: string }).code} (out of file descriptors); retrying every ${ACCEPT_BACKOFF_MS} ms until some are free`);
          }
          yield* this.#sleep(ACCEPT_BACKOFF_MS);
          continue;
        }
        this.#backingOff = false;
        try {
          return new GreenSocket(c, this.#af);
        } catch (e) {
          // One connection that cannot be set up (registration failed) is dropped, not the
          // accept loop: close it, say so, take the next.
          native.close(c);
          hub.warn(`accept: dropped a connection that could not be set up: ${(e as Error).message}`);
        }
      }
    } finally {
      if (deadline) hub.cancelTimer(deadline);
      this.leave('read', prev);
    }
  }

  *#sleep(ms: number): Green<void> {
    this.hub.sleepCurrent(this.hub.current!, ms, { ref: this.refed });
    yield* SUSPEND_OP as Iterator<unknown, void, unknown> & Iterable<unknown>;
  }

  /** @internal */
  protected override release(fd: number): void {
    for (const cb of this.#onClose.splice(0)) cb();
    native.close(fd);
    if (this.#unlinkOnClose && this.#path !== undefined && this.#path !== '' && !this.#path.startsWith('\0')) {
      try {
        fs.unlinkSync(this.#path);
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * Graceful stop (gevent's `stop(timeout)`): stops accepting at once (`close()`), waits up to
   * `timeoutMs` (default 1000, as gevent's) for the handlers that `serve()` runs on this server
   * to return, then kills the rest with `GreenletExit` (their `finally` blocks run) and returns
   * once every one has ended — a handler whose `finally` suspends is waited for; one that
   * swallows the kill keeps it waiting. `timeoutMs: 0` kills at once; `Infinity` never kills.
   * Called from one of the server's own handlers, that handler is neither waited for nor killed.
   *
   * It lives on the server (not on serve()'s operation) because that is what the program
   * holds when it decides to stop — the object it listens and closes with — and it covers
   * every serve() loop on it. It blocks, so it is an operation like every other blocking call;
   * from async code (a signal handler), run it in a greenthread:
   * `await spawn(() => server.shutdown({ timeoutMs: 5000 }))`.
   *
   * @example
   * ```ts
   * const server = listen({ port: 8080 });
   * spawn(() => serve(server, handler));
   * process.once('SIGTERM', async () => {
   *   await spawn(() => server.shutdown({ timeoutMs: 5000 }));
   *   console.log('every connection finished or was cut');
   * });
   * ```
   */
  shutdown(options?: { timeoutMs?: number }): Operation<void> {
    const o = validateOptions(options, 'shutdown options', ['timeoutMs']);
    const timeoutMs = o.timeoutMs === undefined ? 1000 : validateMs(o.timeoutMs, 'timeoutMs', { allowInfinity: true });
    return blocking(this.#shutdown(timeoutMs), 'GreenServer.shutdown()');
  }

  *#shutdown(timeoutMs: number): Green<void> {
    const me = this.hub.requireCurrent('GreenServer.shutdown()');
    this.close();
    const ended = (this.#handlerEnded ??= new Wakeup('GreenServer.shutdown()'));
    const handlers = this.#handlers;
    const others = (): number => handlers.size - (handlers.has(me) ? 1 : 0);
    // Wait for them to return by themselves, until the deadline.
    const deadline = performance.now() + timeoutMs;
    const owner = {};
    while (others() > 0) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        yield* ended.wait(Number.isFinite(left) ? Math.ceil(left) : -1, owner);
      } catch (e) {
        if (timeoutOwner(e) !== owner) throw e;
        break;
      }
    }
    // Kill the rest, then wait for every one to end (a finally block may suspend).
    if (others() > 0) this.hub.killEach([...handlers].filter((gt) => gt !== me), new GreenletExit('server shut down'));
    while (others() > 0) yield* ended.wait();
  }

  /** @internal serve() registers each handler greenthread it starts, for shutdown(). */
  trackHandler(gt: AnyGreenThread): void {
    if (gt.dead) return;
    this.#handlers.add(gt);
    // An internal hook (links): it does not count as observing an error.
    gt.links.add(() => {
      this.#handlers.delete(gt);
      this.#handlerEnded?.notify();
    });
  }

  /** @internal Runs cb when the server closes (serve() parked at its concurrency limit). */
  onClose(cb: () => void): void {
    if (this.isClosed) cb();
    else this.#onClose.push(cb);
  }
}

/**
 * Makes the server for a listening fd we opened; if that fails (registration), closes the fd
 * and removes the Unix socket's file: nothing stays bound.
 */
function serverOwning(fd: number, make: () => GreenServer, path?: string): GreenServer {
  try {
    return make();
  } catch (e) {
    native.close(fd);
    if (path !== undefined && !path.startsWith('\0')) fs.rmSync(path, { force: true });
    throw e;
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
  validateOptions(options, 'listen options', ['host', 'port', 'path', 'backlog', 'reusePort']);
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
    return serverOwning(fd, () => new GreenServer(fd, K.AF_UNIX, options.path, { adopted: false }), options.path);
  }
  const host = options.host ?? '127.0.0.1';
  const af = ipFamily(host);
  const port = validatePort(options.port ?? 0);
  const reusePort = validateBoolean(options.reusePort, 'reusePort', false);
  const fd = check(native.socket(af, K.SOCK_STREAM), 'socket');
  let r = native.setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
  let syscall = 'setsockopt';
  if (r >= 0 && reusePort) r = native.setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEPORT, 1);
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
  return serverOwning(fd, () => new GreenServer(fd, af, undefined, { adopted: false }));
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
  const { af, path, identity } = adoptableSocket(fd, 'listenFd', { listening: true });
  return new GreenServer(fd, af, path, { adopted: true, identity });
}
