/**
 * waitFor: a promise, awaited from inside a greenthread.
 */
import { getHub } from './hub/hub';
import { Wait } from './hub/greenthread';
import { RESUME, SUSPEND_RESULT, done } from './hub/instructions';
import type { Operation } from './types';

class PromiseOp<T> implements Operation<T>, Iterator<unknown, T, unknown> {
  constructor(readonly promise: PromiseLike<T> | T) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, T> {
    const hub = getHub();
    const gt = hub.requireCurrent('waitFor()');
    if (v === RESUME) return done(gt.resumeValue as T);
    const token = ++gt.waitToken;
    gt.waitKind = Wait.Promise;
    // The greenthread may be killed meanwhile: the token tells a stale settlement apart.
    Promise.resolve(this.promise).then(
      (value) => {
        if (gt.waitToken === token && gt.waitKind === Wait.Promise) hub.resumeWith(gt, value);
      },
      (err: unknown) => {
        if (gt.waitToken === token && gt.waitKind === Wait.Promise) hub.resumeThrow(gt, err);
      },
    );
    return SUSPEND_RESULT;
  }
  throw(err: unknown): never {
    throw err;
  }
}

/**
 * Waits inside a greenthread for a promise (or any thenable, or a plain value): returns its
 * value or throws its rejection. The hub keeps running meanwhile. Killing the waiter abandons
 * the promise's result. A promise does not hold the process open by itself.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * spawn(function* () {
 *   const text = yield* waitFor(readFile('/etc/hostname', 'utf8'));
 *   console.log(text);
 * });
 * ```
 */
export function waitFor<T>(promise: PromiseLike<T> | T): Operation<Awaited<T>> {
  getHub().requireCurrent('waitFor()');
  return new PromiseOp(promise) as unknown as Operation<Awaited<T>>;
}
