/**
 * waitFor: a promise, awaited from inside a greenthread; or a promise made for the wait, with
 * an AbortSignal that cancels it when the wait is cut short.
 */
import { getHub } from './hub/hub';
import { Wait } from './hub/greenthread';
import { RESUME, SUSPEND_RESULT, done } from './hub/instructions';
import type { Operation } from './types';
import { blocking } from './operation';

/** What waitFor(factory) calls: it gets the wait's AbortSignal and starts the promise. */
type PromiseFactory<T> = (signal: AbortSignal) => PromiseLike<T> | T;

class PromiseOp<T> implements Operation<T>, Iterator<unknown, T, unknown> {
  /** Made when a factory's promise starts; aborted when the wait ends by an error thrown in. */
  #controller: AbortController | undefined;
  #started = false;

  constructor(
    readonly promise: PromiseLike<T> | T,
    readonly factory: PromiseFactory<T> | undefined,
  ) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, T> {
    const hub = getHub();
    const gt = hub.requireCurrent('waitFor()');
    if (v === RESUME && this.#started) {
      this.#controller = undefined; // settled: the signal is never aborted now
      return done(gt.resumeValue as T);
    }
    this.#started = true;
    let promise = this.promise;
    if (this.factory !== undefined) {
      // Started here, when the wait begins (not when waitFor() was called): a deadline around
      // the wait covers the whole request. A factory that throws is the wait's error.
      const controller = (this.#controller = new AbortController());
      promise = this.factory(controller.signal);
    }
    const token = ++gt.waitToken;
    gt.waitKind = Wait.Promise;
    // The greenthread may be killed meanwhile: the token tells a stale settlement apart.
    Promise.resolve(promise).then(
      (value) => {
        if (gt.waitToken === token && gt.waitKind === Wait.Promise) hub.resumeWith(gt, value);
      },
      (err: unknown) => {
        if (gt.waitToken === token && gt.waitKind === Wait.Promise) hub.resumeThrow(gt, err);
      },
    );
    return SUSPEND_RESULT;
  }
  /** A kill, a timeout or a race() loser's kill reaches the wait here: the signal says why. */
  throw(err: unknown): never {
    this.#abort(err);
    throw err;
  }
  return(value?: unknown): IteratorResult<unknown, T> {
    this.#abort(new DOMException('waitFor() was abandoned', 'AbortError'));
    return { done: true, value: value as T };
  }
  #abort(reason: unknown): void {
    const c = this.#controller;
    if (c === undefined) return;
    this.#controller = undefined;
    // The promise's settlement is ignored from now on (the hub bumped the wait token), so the
    // rejection an aborted fetch makes is handled and dropped.
    c.abort(reason);
  }
}

/**
 * Waits inside a greenthread for a promise (or any thenable, or a plain value): returns its
 * value or throws its rejection. The hub keeps running meanwhile. A promise does not hold the
 * process open by itself.
 *
 * Given a promise, a kill or a timeout abandons its result: the work behind it runs on. Given
 * a function, waitFor calls it when the wait starts with an `AbortSignal`, and aborts that
 * signal if the wait ends early: the greenthread is killed (reason: the `GreenletExit`, e.g. a
 * `race()` loser's kill), an enclosing `withTimeout` fires (reason: the `TimeoutError`) or a
 * `withSignal` aborts. Pass the signal on (`fetch`, `setTimeout` of `node:timers/promises`,
 * `events.once`…) and the promise's work is cancelled too. Once the wait has returned, the
 * signal is never aborted: to cancel reading a response's body as well, do it inside the
 * function. (So a function is always called, never awaited as a value.)
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * spawn(function* () {
 *   const text = yield* waitFor(readFile('/etc/hostname', 'utf8'));
 *   // Cancellable: past 1 s the request is aborted and TimeoutError is thrown here.
 *   const body = yield* withTimeout(1000, waitFor(async (signal) => {
 *     const res = await fetch('http://127.0.0.1:8080/', { signal });
 *     return res.text();
 *   }));
 * });
 * ```
 */
export function waitFor<T>(factory: (signal: AbortSignal) => PromiseLike<T> | T): Operation<Awaited<T>>;
export function waitFor<T>(promise: PromiseLike<T> | T): Operation<Awaited<T>>;
export function waitFor<T>(promiseOrFactory: PromiseLike<T> | T | PromiseFactory<T>): Operation<Awaited<T>> {
  const op =
    typeof promiseOrFactory === 'function'
      ? new PromiseOp<T>(undefined as T, promiseOrFactory as PromiseFactory<T>)
      : new PromiseOp<T>(promiseOrFactory as PromiseLike<T> | T, undefined);
  return blocking(op as unknown as Operation<Awaited<T>>, 'waitFor()');
}
