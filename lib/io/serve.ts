/**
 * serve(): eventlet's `serve` — the accept loop, each connection handled in its own greenthread.
 */
import { isGreenletExit } from '../errors';
import { getHub } from '../hub/hub';
import { NO_ERROR, Wait, type AnyGreenThread, type Waitable } from '../hub/greenthread';
import { SUSPEND_OP } from '../hub/instructions';
import { timeoutOwner } from '../hub/timers';
import type { GreenServer } from './server';
import type { GreenSocket } from './socket';
import { checkBody, spawn } from '../spawn';
import type { Body, Green, Operation } from '../types';
import { validateFunction, validateInt, validateMs, validateOptions } from '../validate';
import { blocking } from '../operation';

/**
 * Options of {@link serve}.
 *
 * @example
 * ```ts
 * yield* serve(server, handle, { concurrency: 100 });
 * ```
 */
export interface ServeOptions {
  /** Most connections handled at once (default 1000, as eventlet's); accepting pauses at the limit. */
  concurrency?: number;
  /**
   * Each blocking call on a served socket waits at most this long for its peer (the socket's
   * `setTimeout`), so silent or slow clients cannot hold every slot (slowloris); the handler
   * gets a TimeoutError, which serve() does not report. Default 0: no limit.
   */
  idleTimeoutMs?: number;
}

/** The accept loop's park while `concurrency` handlers run. */
class Slot implements Waitable {
  waiter: AnyGreenThread | undefined;
  cancelWait(): void {
    this.waiter = undefined;
  }
  describeWait(): string {
    return 'a free handler slot (serve)';
  }
}

/**
 * Accepts connections on `server` for ever, running `handler(sock)` for each in its own
 * greenthread, at most `concurrency` at once. Each socket is closed when its handler returns
 * or throws; an error in one handler goes to the hub's error handler and does not stop the
 * loop (a peer's reset — ECONNRESET, EPIPE, ECONNABORTED — is not reported). Returns (cleanly)
 * once `server.close()` is called; handlers still running carry on. For a graceful stop,
 * `yield* server.shutdown({ timeoutMs })` closes the server, waits up to timeoutMs for the
 * handlers serve() runs on it, then kills the rest (their `finally` blocks run).
 *
 * @example
 * ```ts
 * import { listen, serve, spawn } from 'greenhub';
 * const server = listen({ port: 8080 });
 * spawn(() => serve(server, function* echo(sock) {
 *   const buf = Buffer.allocUnsafe(65536);
 *   for (let n; (n = yield* sock.recvInto(buf)) > 0; ) yield* sock.sendAll(buf.subarray(0, n));
 * }));
 * // later: stop accepting, give running handlers 5 s, then cut them
 * yield* server.shutdown({ timeoutMs: 5000 });
 * ```
 */
export function serve(server: GreenServer, handler: Body<[GreenSocket], unknown>, options: ServeOptions = {}): Operation<void> {
  validateFunction(handler, 'handler');
  // What spawn() refuses (an async function) is refused here, before any connection is taken.
  checkBody(handler);
  validateOptions(options, 'serve options', ['concurrency', 'idleTimeoutMs']);
  const concurrency = options.concurrency === undefined ? 1000 : validateInt(options.concurrency, 'concurrency', 1, 0x7fffffff);
  const idleTimeoutMs = options.idleTimeoutMs === undefined ? 0 : validateMs(options.idleTimeoutMs, 'idleTimeoutMs');
  return blocking(serveLoop(server, handler, concurrency, idleTimeoutMs), 'serve()');
}

/**
 * Errors a handler may end with that are nobody's bug here: a killed handler; a peer that
 * resets or vanishes (common under load); the socket's own timeout (a silent peer); the socket
 * closed by our side while the handler used it.
 */
function isPeersDoing(e: unknown, sock: GreenSocket): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (isGreenletExit(e) || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return true;
  if (timeoutOwner(e) === sock) return true;
  return code === 'ERR_SOCKET_CLOSED' && sock.closed;
}

function* serveLoop(server: GreenServer, handler: Body<[GreenSocket], unknown>, concurrency: number, idleTimeoutMs: number): Green<void> {
  const hub = getHub();
  const slot = new Slot();
  let running = 0;
  const name = handler.name || 'serve handler';
  const wakeLoop = (): void => {
    const w = slot.waiter;
    if (w !== undefined) {
      slot.waiter = undefined;
      hub.resumeWith(w, undefined);
    }
  };
  server.onClose(wakeLoop); // parked at the limit, the loop must still see close()
  for (;;) {
    if (server.closed) return;
    if (running >= concurrency) {
      const me = hub.requireCurrent('serve()');
      slot.waiter = me;
      me.waitKind = Wait.Custom;
      me.waitObj = slot;
      yield* SUSPEND_OP as Iterator<unknown, void, unknown> & Iterable<unknown>;
      continue;
    }
    let sock: GreenSocket;
    try {
      sock = yield* server.accept();
    } catch (e) {
      if (server.closed) return;
      throw e;
    }
    running++;
    if (idleTimeoutMs > 0) sock.setTimeout(idleTimeoutMs);
    // The handler is the greenthread's body itself, not wrapped in a generator that catches its
    // errors: a wrapper would be one more generator to resume on every switch.
    // (checkBody at the call refused what spawn() cannot run, so this does not throw.)
    const gt = spawn({ name }, handler, sock);
    // When the handler ends — returned, threw, or killed before it even started — its socket
    // closes and its slot frees (an internal hook: it does not count as observing an error).
    // A socket a live Duplex took over stays open: the Duplex closes it when it is done.
    // Its error is serve()'s to report, once, whoever else observes the greenthread: reported
    // here unless it is the peer's doing, and marked observed so the hub does not report it too.
    gt.links.add(() => {
      if (gt.error !== NO_ERROR) {
        if (!isPeersDoing(gt.error, sock)) hub.reportError(gt.error, gt as AnyGreenThread);
        gt.observed = true;
      }
      if (sock.takenBy === undefined || sock.takenBy.destroyed) sock.close();
      running--;
      wakeLoop();
    });
    server.trackHandler(gt); // server.shutdown() waits for it, then kills it
  }
}
