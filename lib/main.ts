/**
 * main(fn): the program's root greenthread, with Node's exit conventions (effection's `main`).
 * SIGINT and SIGTERM kill the root (its finally blocks run) within a grace period; when the root
 * ends, every other greenthread is shut down and the signal listeners go, so the process exits
 * by itself with 0 (returned), 1 (threw), 130 (SIGINT) or 143 (SIGTERM).
 */
import { GreenletExit, isGreenletExit } from './errors';
import { getHub } from './hub/hub';
import { spawn } from './spawn';
import type { Body } from './types';
import { validateFunction, validateMs, validateOptions } from './validate';

/**
 * Options of {@link main}.
 *
 * @example
 * ```ts
 * const options: MainOptions = { gracePeriodMs: 10_000, name: 'server' };
 * main(serveForever, options);
 * ```
 */
export interface MainOptions {
  /**
   * How long the root may take to end after SIGINT or SIGTERM (its finally blocks may still
   * wait: close connections, flush a log) before the process exits anyway with the signal's
   * code. Default 5000; Infinity (or anything past 2^31 - 1 ms) waits for ever. A second signal
   * exits at once.
   */
  gracePeriodMs?: number;
  /** The root greenthread's name (default: fn's name, or "main"). */
  name?: string;
}

/** Exit codes by signal: 128 + its number, as a shell reports a process the signal ended. */
const SIGNAL_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

const NO_ERROR: unique symbol = Symbol('no error');

/** Node's longest timer (a longer one fires at once): a grace period past it never ends. */
const MAX_TIMER_MS = 0x7fffffff;

/** A main() is running (one root per process). */
let running = false;

/**
 * Runs `fn` as the program's root greenthread and gives the process Node's exit conventions:
 *
 * - it returns → exit code 0 (unless something else set `process.exitCode`, such as an uncaught
 *   error of another greenthread printed by the default error handler);
 * - it throws → the error is printed once (on stderr, not also by the hub's error handler)
 *   and the exit code is 1;
 * - SIGINT / SIGTERM → the root is killed (`GreenletExit` is thrown where it waits, its
 *   `finally` blocks run, and they may still wait) and the exit code is 130 / 143. If it has not
 *   ended within `gracePeriodMs` (default 5000), or a second signal comes, the process exits at
 *   once.
 *
 * When the root ends, every other greenthread is shut down (`getHub().shutdown()`: their
 * `finally` blocks run) and the signal listeners are removed, so the process exits by itself
 * once Node has nothing else to do. Returns a promise of the exit code it set (it never
 * rejects). One main() at a time, called from outside any greenthread.
 *
 * @example
 * ```ts
 * import { listen, main, serve } from 'greenhub';
 *
 * main(function* server() {
 *   const srv = listen({ port: 8080 });
 *   try {
 *     yield* serve(srv, function* (sock) { yield* sock.sendAll(Buffer.from('hello\n')); });
 *   } finally {
 *     srv.close(); // runs on Ctrl-C: the process then exits with 130
 *   }
 * });
 * ```
 */
export function main<T>(fn: Body<[], T>, options?: MainOptions): Promise<number> {
  validateFunction(fn, 'main(fn): fn');
  const o = validateOptions(options, 'main options', ['gracePeriodMs', 'name']);
  const graceMs = o.gracePeriodMs === undefined ? 5000 : validateMs(o.gracePeriodMs, 'gracePeriodMs', { allowInfinity: true });
  if (o.name !== undefined && typeof o.name !== 'string') throw new TypeError(`main option name must be a string, got ${typeof o.name}`);
  const hub = getHub();
  if (hub.current !== undefined) throw new Error('main() starts the root greenthread of the program: call it from top-level code, not from inside a greenthread');
  if (running) throw new Error('main() is already running: a program has one root greenthread');
  running = true;

  const root = spawn({ name: o.name ?? (fn.name || 'main') }, fn);
  let received: NodeJS.Signals | undefined;

  const onSignal = (sig: NodeJS.Signals): void => {
    if (received !== undefined) {
      process.exit(SIGNAL_CODES[sig]); // a second signal: no more waiting
    }
    received = sig;
    if (graceMs <= MAX_TIMER_MS) {
      setTimeout(() => {
        process.stderr.write(`greenhub: main: "${root.name}" did not end within ${graceMs} ms of ${sig}; exiting\n`);
        process.exit(SIGNAL_CODES[sig]);
      }, graceMs).unref(); // bounds the stop; never holds the process itself
    }
    root.kill(new GreenletExit(`${sig} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const end = (err: unknown): number => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    running = false;
    let code: number | undefined;
    if (err !== NO_ERROR && !isGreenletExit(err)) {
      const stack = err instanceof Error ? err.stack ?? String(err) : String(err);
      process.stderr.write(`greenhub: main: greenthread "${root.name}" (id ${root.id}) failed:\n${stack}\n`);
      code = 1;
    } else if (received !== undefined) {
      code = SIGNAL_CODES[received];
    }
    if (code !== undefined) process.exitCode = code;
    hub.shutdown(); // the rest: their finally blocks run
    return code ?? (Number(process.exitCode ?? 0) || 0);
  };
  // then() observes the root's error: the hub's error handler does not print it too.
  return Promise.resolve(root.then(() => end(NO_ERROR), end));
}
