/**
 * spawnAfterLocal: eventlet's `spawn_after_local`, a delayed start tied to the life of the
 * greenthread that scheduled it.
 *
 * Two internal end hooks (GreenThread links, which do not count as observing an error) tie
 * them: the scheduler's end cancels the child; the child's end, or its start, removes that hook,
 * so a long-lived scheduler keeps no hook per child it scheduled.
 */
import { GreenletExit } from './errors';
import type { GreenThread } from './hub/greenthread';
import { getHub } from './hub/hub';
import { spawnAfter } from './spawn';
import type { Body, SpawnOptions } from './types';
import { validateMs } from './validate';

/**
 * Like `spawnAfter`: returns a `GreenThread` whose body starts after `ms` milliseconds — but
 * if the greenthread that called it ends first (returns, throws or is killed), the scheduled
 * one is cancelled: its body never runs and its waiters get `GreenletExit`, as after
 * `cancel()`. Once the body has started, the two live independently. Must be called inside a
 * greenthread (outside one, use `spawnAfter`). Does not block.
 *
 * @example
 * ```ts
 * spawn(function* request(conn: GreenSocket) {
 *   // a reminder that only matters while this request is being served
 *   spawnAfterLocal(5000, function* () { console.log('request still running after 5 s'); });
 *   yield* handle(conn);
 * }, conn);
 * ```
 */
export function spawnAfterLocal<A extends unknown[], T>(ms: number, fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawnAfterLocal<A extends unknown[], T>(ms: number, options: SpawnOptions, fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawnAfterLocal<T>(ms: number, a: unknown, ...rest: unknown[]): GreenThread<T> {
  validateMs(ms, 'ms');
  const parent = getHub().current;
  if (parent === undefined) {
    throw new Error('spawnAfterLocal() must be called inside a greenthread: the scheduled one is cancelled if the caller ends first (outside a greenthread, use spawnAfter)');
  }
  // spawnAfter checks and names the body; ours then only wraps it.
  const child = (spawnAfter as (ms: number, a: unknown, ...rest: unknown[]) => GreenThread<T>)(ms, a, ...rest);
  const cancelChild = (): void => {
    child.cancel(new GreenletExit(`cancelled: greenthread ${parent.id} (${parent.name}), which scheduled it, ended first`));
  };
  const forgetParent = (): void => {
    parent.unlink(cancelChild);
  };
  parent.links.add(cancelChild);
  child.links.add(forgetParent);
  const body = child.body!;
  child.body = (...args: never[]) => {
    // Started: from now on it lives on its own.
    parent.unlink(cancelChild);
    child.unlink(forgetParent);
    return body(...args);
  };
  return child;
}
