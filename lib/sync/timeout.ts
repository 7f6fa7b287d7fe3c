/**
 * withTimeout: a deadline around any operation.
 */
import { getHub } from '../hub/hub';
import { TimerKind } from '../hub/timers';
import type { Green, Operation } from '../types';
import { describeValue, validateMs } from '../validate';
import { blocking } from '../operation';

/**
 * Runs op in the calling greenthread; past `ms`, a TimeoutError (`code: 'ETIMEDOUT'`) is thrown
 * into op at its suspension point (its `finally` blocks run). A timeout that did not fire
 * leaves no timer behind.
 *
 * @example
 * ```ts
 * try {
 *   const line = yield* withTimeout(1000, sock.readLine());
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log('no answer within 1 s');
 * }
 * ```
 */
export function withTimeout<T>(ms: number, op: Operation<T>): Operation<T> {
  validateMs(ms, 'ms');
  if (op === null || typeof op !== 'object' || typeof (op as Operation<T>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`withTimeout needs an operation (a generator or other iterable), got ${describeValue(op)}`);
  }
  return blocking(withTimeoutOp(ms, op), 'withTimeout()');
}

/** @internal withTimeout after its checks; `message` names what timed out. */
export function* withTimeoutOp<T>(ms: number, op: Operation<T>, message = `operation timed out after ${ms} ms`): Green<T> {
  const hub = getHub();
  const gt = hub.requireCurrent('withTimeout()');
  const timer = hub.addTimer(TimerKind.Timeout, ms, gt, { ref: true, message });
  try {
    return yield* op;
  } finally {
    hub.cancelTimer(timer);
  }
}
