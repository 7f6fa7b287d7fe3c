/**
 * all and race: operations run concurrently, each in a child greenthread.
 */
import { isGreenletExit } from './errors';
import { type AnyGreenThread, NO_ERROR, Wait, type Waitable } from './hub/greenthread';
import { type Hub, getHub } from './hub/hub';
import { RESUME, SUSPEND_RESULT, done } from './hub/instructions';
import type { Green, Operation } from './types';
import { spawn } from './spawn';
import { describeValue } from './validate';
import { blocking } from './operation';

type Results<T extends readonly Operation<unknown>[]> = { -readonly [K in keyof T]: T[K] extends Operation<infer R> ? R : never };

/**
 * @internal The parent's park while its children (or watchers) run: woken by them through
 * resumeWith, killed with it. `what` names the call; `describe` what dump() says it waits on.
 */
export class Gather implements Waitable, Operation<unknown>, Iterator<unknown, unknown, unknown> {
  constructor(
    readonly what: string,
    readonly describe: () => string = () => `${what} of its children`,
  ) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, unknown> {
    const gt = getHub().requireCurrent(this.what);
    if (v === RESUME) return done(gt.resumeValue);
    gt.waitKind = Wait.Custom;
    gt.waitObj = this;
    return SUSPEND_RESULT;
  }
  throw(err: unknown): IteratorResult<unknown, unknown> {
    throw err;
  }
  cancelWait(): void {}
  describeWait(): string {
    return this.describe();
  }
}

function children(ops: readonly Operation<unknown>[], what: string): AnyGreenThread[] {
  if (!Array.isArray(ops)) throw new TypeError(`${what} needs an array of operations, got ${describeValue(ops)}`);
  ops.forEach((op, i) => {
    if (op === null || typeof op !== 'object' || typeof (op as Operation<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${what}: ops[${i}] must be an operation (an iterable such as a generator or a GreenThread), got ${describeValue(op)}`);
    }
  });
  return ops.map((op, i) => spawn({ name: `${what}[${i}]` }, function* (): Green<unknown> {
    return yield* op;
  }));
}

/**
 * Runs the operations concurrently and returns all their results, in order. The first error
 * kills the others and is thrown; killing the caller kills them too.
 *
 * @example
 * ```ts
 * const [a, b] = yield* all([fetchUser(1), fetchUser(2)]);
 * ```
 */
export function all<const T extends readonly Operation<unknown>[]>(ops: T): Operation<Results<T>> {
  const hub = getHub();
  return blocking(allOp(hub, ops), 'all()');
}

function* allOp<const T extends readonly Operation<unknown>[]>(hub: Hub, ops: T): Green<Results<T>> {
  const parent = hub.requireCurrent('all()');
  const kids = children(ops, 'all');
  const results: unknown[] = new Array(kids.length);
  if (kids.length === 0) return results as Results<T>;
  let remaining = kids.length;
  let settled = false;
  kids.forEach((kid, i) =>
    kid.link((k) => {
      if (settled) return;
      if (k.error !== NO_ERROR) {
        settled = true;
        // A child killed from outside fails all() with an error of its own: rethrowing the
        // GreenletExit would end the caller as if it had been killed.
        const err = isGreenletExit(k.error) ? new Error(`all(): operation ${i} was killed`, { cause: k.error }) : k.error;
        hub.throwInto(parent, err);
      } else {
        results[i] = k.result;
        if (--remaining === 0) {
          settled = true;
          hub.resumeWith(parent, results);
        }
      }
    }),
  );
  try {
    return (yield* new Gather('all()')) as Results<T>;
  } finally {
    settled = true;
    for (const kid of kids) kid.kill();
  }
}

/**
 * Runs the operations concurrently; returns the first result (or throws the first error) and
 * kills the rest. Killing the caller kills them all.
 *
 * @example
 * ```ts
 * const reply = yield* race([readReply(sock), timeoutAfter(1000)]);
 * ```
 */
export function race<T extends readonly Operation<unknown>[]>(ops: T): Operation<Results<T>[number]> {
  const hub = getHub();
  return blocking(raceOp(hub, ops), 'race()');
}

function* raceOp<T extends readonly Operation<unknown>[]>(hub: Hub, ops: T): Green<Results<T>[number]> {
  const parent = hub.requireCurrent('race()');
  if (ops.length === 0) throw new TypeError('race() needs at least one operation, got an empty array');
  const kids = children(ops, 'race');
  let settled = false;
  let killed = 0;
  for (const kid of kids) {
    kid.link((k) => {
      if (settled) return;
      // A child killed from outside does not decide the race, unless every child was.
      if (k.error !== NO_ERROR && isGreenletExit(k.error) && ++killed < kids.length) return;
      if (killed === kids.length) {
        settled = true;
        hub.throwInto(parent, new Error('race(): every operation was killed', { cause: k.error }));
        return;
      }
      settled = true;
      if (k.error !== NO_ERROR) hub.throwInto(parent, k.error);
      else hub.resumeWith(parent, k.result);
    });
  }
  try {
    return (yield* new Gather('race()')) as Results<T>[number];
  } finally {
    settled = true;
    for (const kid of kids) kid.kill();
  }
}
