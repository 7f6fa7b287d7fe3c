/**
 * scope: structured concurrency (effection's, trio's nursery).
 */
import { isGreenletExit } from '../errors';
import { type AnyGreenThread, type GreenThread, NO_ERROR } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { bodyOperation, spawn } from '../spawn';
import type { Body, Green, Operation, SpawnOptions } from '../types';
import { validateFunction } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';


/**
 * The handle a scope body gets: `spawn` starts a child of the scope.
 *
 * @example
 * ```ts
 * yield* scope(function* (s: Scope) {
 *   s.spawn(heartbeat);
 *   s.spawn({ name: 'worker' }, work, jobs);
 * });
 * ```
 */
export interface Scope {
  spawn<A extends unknown[], T>(fn: Body<A, T>, ...args: A): GreenThread<T>;
  spawn<A extends unknown[], T>(options: SpawnOptions, fn: Body<A, T>, ...args: A): GreenThread<T>;
}

/**
 * Runs `body(s)`; children spawned with `s.spawn` belong to the scope. scope returns (the
 * body's result) once the body and every child have ended. The first child error kills the
 * other children and the body, and is thrown; killing the greenthread that runs the scope kills
 * the children. A child killed from outside just ends.
 *
 * @example
 * ```ts
 * const total = yield* scope(function* (s) {
 *   const a = s.spawn(count, 'a.txt');
 *   const b = s.spawn(count, 'b.txt');
 *   return (yield* a.wait()) + (yield* b.wait());
 * });
 * ```
 */
export function scope<T>(body: Body<[Scope], T>): Operation<T> {
  validateFunction(body, 'body');
  return blocking(scopeOp(body), 'scope()');
}

function* scopeOp<T>(body: Body<[Scope], T>): Green<T> {
  const hub = getHub();
  const owner = hub.requireCurrent('scope()');
  const children = new Set<AnyGreenThread>();
  const idle = new WaitList('scope (children still running)');
  let failure: { error: unknown } | undefined;
  let bodyDone = false;

  const s: Scope = {
    spawn(a: unknown, ...rest: unknown[]): AnyGreenThread {
      if (failure) throw new Error('scope has failed: no new children');
      const gt = (spawn as (...x: unknown[]) => AnyGreenThread)(a, ...rest);
      children.add(gt);
      gt.link(() => {
        children.delete(gt);
        if (gt.error !== NO_ERROR && !isGreenletExit(gt.error) && failure === undefined) {
          failure = { error: gt.error };
          for (const c of [...children]) c.kill();
          // Interrupt the body (or the wait for the children) with the child's error.
          if (!bodyDone) hub.throwInto(owner, gt.error);
          else idle.wakeAll(undefined);
        } else if (children.size === 0) {
          idle.wakeAll(undefined);
        }
      });
      return gt;
    },
  };

  let result: T;
  try {
    result = yield* bodyOperation(body, [s]);
    bodyDone = true;
    while (children.size > 0 && failure === undefined) yield* idle.wait(undefined, -1);
  } catch (e) {
    bodyDone = true;
    if (failure !== undefined) throw failure.error;
    throw e;
  } finally {
    bodyDone = true;
    for (const c of [...children]) c.kill();
    if (failure !== undefined && owner.pendingKill === failure.error) owner.pendingKill = NO_ERROR;
  }
  if (failure !== undefined) throw failure.error;
  return result;
}
