/**
 * The protocol between operations and the hub, in three values.
 *
 * A primitive operation arranges its wake-up with the hub, then yields `SUSPEND`. The hub
 * resumes the greenthread with `gen.next(RESUME)` — the operation then returns the greenthread's
 * `resumeValue` — or with `gen.throw(err)`. Any other yielded value means the user wrote
 * `yield op` instead of `yield* op`: the hub throws a TypeError back saying so.
 *
 * The markers live on `Symbol.for`, so two copies of greenhub in one thread (which share one
 * hub) speak the same protocol. Results are preallocated: a switch allocates nothing.
 */
export const SUSPEND: unique symbol = Symbol.for('greenhub.suspend') as never;
export const RESUME: unique symbol = Symbol.for('greenhub.resume') as never;

export const SUSPEND_RESULT: IteratorYieldResult<unknown> = Object.freeze({ value: SUSPEND, done: false as const });

/** A shared done-result; `yield*` reads it synchronously, so reusing it is safe. */
const DONE: { value: unknown; done: true } = { value: undefined, done: true };

export function done<T>(value: T): IteratorReturnResult<T> {
  DONE.value = value;
  return DONE as IteratorReturnResult<T>;
}

/**
 * The bare suspension, for code that has already arranged its wake-up with the hub: suspends
 * once and returns the greenthread's resumeValue. Stateless, so one instance serves all.
 */
export const SUSPEND_OP: Iterator<unknown, unknown, unknown> & { [Symbol.iterator](): Iterator<unknown, unknown, unknown> } = {
  [Symbol.iterator]() {
    return this;
  },
  next(v?: unknown) {
    if (v !== RESUME) return SUSPEND_RESULT;
    const hub = (globalThis as unknown as Record<symbol, { current?: { resumeValue: unknown } }>)[Symbol.for('greenhub.hub')];
    return done(hub?.current?.resumeValue);
  },
  throw(err: unknown): never {
    throw err;
  },
};

/**
 * The `then` of every operation: `await op` (an operation is not a promise) rejects with an
 * error that says what to write instead. (A GreenThread has a real `then`.)
 */
export function rejectAwait(this: unknown, _onFulfilled?: unknown, onRejected?: unknown): void {
  const err = new TypeError(
    'an operation is not a promise: run it with `yield* op` inside a greenthread; from async code, `await` a greenthread that runs it (await spawn(function* () { return yield* op; }))',
  );
  if (typeof onRejected === 'function') (onRejected as (e: unknown) => void)(err);
  else throw err;
}
