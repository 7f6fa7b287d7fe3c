/**
 * sleep and cooperate: giving the hub back to the others.
 *
 * Both are hand-written one-shot iterators rather than generator functions: sleep(0) and a
 * cooperate() that does not yield allocate nothing (DESIGN.md, "Performance rules").
 */
import { Wait } from './hub/greenthread';
import { getHub } from './hub/hub';
import { RESUME, SUSPEND_RESULT, done } from './hub/instructions';
import type { Operation } from './types';
import { validateMs } from './validate';
import { blocking, notAPromise } from './operation';

type Step = Iterator<unknown, void, unknown> & Operation<void>;


/** A sleep holds the process open (shared: a sleep allocates only its timer). */
const HOLDS_PROCESS = Object.freeze({ ref: true });
/** sleep(0): to the back of the next turn. Stateless (the RESUME marker tells the two calls apart), so one instance serves all. */
const YIELD: Step = {
  [Symbol.iterator]() {
    return this;
  },
  next(v?: unknown) {
    if (v === RESUME) return done(undefined);
    const hub = getHub();
    const gt = hub.current;
    if (gt === undefined) hub.requireCurrent('sleep(0)');
    else hub.yieldCurrent(gt);
    return SUSPEND_RESULT;
  },
  throw(err: unknown): never {
    throw err;
  },
};

/** cooperate() under the time slice: returns at once. */
const NOTHING: Step = {
  [Symbol.iterator]() {
    return this;
  },
  next() {
    return done(undefined);
  },
  throw(err: unknown): never {
    throw err;
  },
};

/** sleep(ms > 0): one timer. */
class SleepOp implements Step {
  constructor(readonly ms: number) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, void> {
    if (v === RESUME) return done(undefined);
    const hub = getHub();
    const gt = hub.requireCurrent('sleep()');
    if (this.ms === Infinity) gt.waitKind = Wait.None; // until killed: no timer, holds nothing
    else hub.sleepCurrent(gt, this.ms, HOLDS_PROCESS);
    return SUSPEND_RESULT;
  }
  throw(err: unknown): never {
    throw err;
  }
}

/**
 * Suspends the calling greenthread for at least `ms` milliseconds (`Infinity`: until killed).
 * `sleep(0)` (the default) yields: every other runnable greenthread, every ready fd and every
 * timer due by the next turn goes first, and then the caller resumes — eventlet's semantics.
 * A sleeping greenthread holds the process open until it wakes.
 *
 * @example
 * ```ts
 * spawn(function* heartbeat() {
 *   for (;;) {
 *     report();
 *     yield* sleep(100);
 *   }
 * });
 * ```
 */
export function sleep(ms = 0): Operation<void> {
  if (ms === 0) {
    // The hot path of a switch: blocking()'s checks inline (YIELD has its rejecting `then` already).
    const hub = getHub();
    return hub.current !== undefined && !hub.debug ? YIELD : blocking(YIELD, 'sleep()');
  }
  validateMs(ms, 'ms', { allowInfinity: true });
  return blocking(new SleepOp(ms), 'sleep()');
}

/**
 * Yields like `sleep(0)`, but only once the current turn has run longer than
 * `getHub().timeSliceMs` (default 10 ms); otherwise it costs one clock read and returns at
 * once. Sprinkle it in CPU-heavy loops: they stay fast and no longer starve the others.
 *
 * @example
 * ```ts
 * function* crunch(items: Item[]): Green<void> {
 *   for (const item of items) {
 *     process(item);
 *     yield* cooperate();
 *   }
 * }
 * ```
 */
export function cooperate(): Operation<void> {
  const hub = getHub();
  if (hub.current === undefined) hub.requireCurrent('cooperate()');
  return blocking(hub.sliceExpired() ? YIELD : NOTHING, 'cooperate()');
}

// The shared operations are plain objects: `await sleep(0)` must fail loudly too.
notAPromise(YIELD);
notAPromise(NOTHING);
