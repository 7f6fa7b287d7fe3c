/**
 * The errors greenhub throws by name. Both carry a brand on `Symbol.for(...)`, so they are
 * recognised across two copies of the module in one process (which share one hub).
 */

const EXIT_BRAND = Symbol.for('greenhub.GreenletExit');
const TIMEOUT_BRAND = Symbol.for('greenhub.TimeoutError');

/**
 * Thrown into a greenthread by `kill()` (the default error), as in eventlet. A greenthread that
 * ends with it was killed, not broken: it is never reported to the hub's error handler.
 * Waiters of a killed greenthread get it from `wait()`.
 *
 * @example
 * ```ts
 * const gt = spawn(function* () {
 *   try { yield* sleep(1000); } finally { console.log('cleaned up'); }
 * });
 * yield* sleep(0);
 * gt.kill(); // logs "cleaned up" before kill() returns
 * try { yield* gt.wait(); } catch (e) { console.log(e instanceof GreenletExit); } // true
 * ```
 */
export class GreenletExit extends Error {
  constructor(message = 'greenthread killed') {
    super(message);
    this.name = 'GreenletExit';
    Object.defineProperty(this, EXIT_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[EXIT_BRAND] === true;
  }
}

/**
 * Thrown by every blocking call whose timeout passed (and by `withTimeout`): `code` is
 * `'ETIMEDOUT'`, like Node's own timeouts. (`Semaphore.acquire` returns false instead.)
 *
 * @example
 * ```ts
 * try {
 *   yield* trampoline(fd, { read: true, timeoutMs: 500 });
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log(e.code); // 'ETIMEDOUT'
 * }
 * ```
 */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message = 'operation timed out') {
    super(message);
    this.name = 'TimeoutError';
    Object.defineProperty(this, TIMEOUT_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TIMEOUT_BRAND] === true;
  }
}

/** Whether err is a GreenletExit from any copy of greenhub. */
export function isGreenletExit(err: unknown): boolean {
  return err instanceof GreenletExit;
}
