/**
 * withSignal: an AbortSignal that cancels an operation.
 */
import { NO_ERROR } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import type { Green, Operation } from '../types';
import { describeValue } from '../validate';
import { blocking } from '../operation';

/**
 * Runs op in the calling greenthread until `signal` aborts; then the signal's reason is thrown
 * into op at its suspension point (its `finally` blocks run), like a timeout. A signal that is
 * already aborted never starts op. The listener is removed when op ends.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(new Error('client went away')), 1000);
 * const line = yield* withSignal(ac.signal, sock.readLine());
 * ```
 */
export function withSignal<T>(signal: AbortSignal, op: Operation<T>): Operation<T> {
  if (!(signal instanceof AbortSignal)) throw new TypeError(`withSignal needs an AbortSignal, got ${describeValue(signal)}`);
  if (op === null || typeof op !== 'object' || typeof (op as Operation<T>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`withSignal needs an operation (a generator or other iterable), got ${describeValue(op)}`);
  }
  return blocking(withSignalOp(signal, op), 'withSignal()');
}

function* withSignalOp<T>(signal: AbortSignal, op: Operation<T>): Green<T> {
  if (signal.aborted) throw signal.reason;
  const hub = getHub();
  const gt = hub.requireCurrent('withSignal()');
  const reason = (): unknown => signal.reason;
  const onAbort = () => {
    hub.throwInto(gt, reason()); // on the stack (op aborted itself): at its next suspension
    hub.wakeup();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return yield* op;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // An abort op raised on itself but never suspended after must not outlive op.
    if (signal.aborted && gt.pendingKill === signal.reason) gt.pendingKill = NO_ERROR;
  }
}
