/**
 * spawn, spawnAfter and current: starting greenthreads and asking which one runs.
 */
import { getHub } from './hub/hub';
import type { GreenThread } from './hub/greenthread';
import type { Body, Operation, Priority, SpawnOptions } from './types';
import { describeValue, validateMs, validateOneOf, validateOptions } from './validate';


/** A greenthread body: returns a generator (or any operation, such as `serve(...)`). */

/** A generator object or other operation where a function was wanted: the `co` habit, spawn(work()). */
function isOperationObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as Record<symbol, unknown>)[Symbol.iterator] === 'function';
}

/** @internal Throws the TypeError spawn() gives for what it cannot run. */
export function checkBody(fn: unknown): void {
  if (isOperationObject(fn)) {
    throw new TypeError(
      `spawn needs a function to call, got ${describeValue(fn)} that is already an operation (a generator object?): write spawn(work, arg) or spawn(() => work(arg)), not spawn(work(arg))`,
    );
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`spawn needs a generator function (or a function returning a generator), got ${describeValue(fn)}`);
  }
  const kind = (fn as { constructor?: { name?: string } }).constructor?.name;
  if (kind === 'AsyncFunction' || kind === 'AsyncGeneratorFunction') {
    throw new TypeError(
      `spawn cannot run an async function (${fn.name || 'anonymous'}): write the body as function* and use yield* waitFor(promise) where it awaits`,
    );
  }
}

function checkOptions(opts: unknown): { name: string | undefined; priority: Priority } {
  const { name, priority = 'normal' } = validateOptions(opts as SpawnOptions, 'spawn options', ['name', 'priority']);
  if (name !== undefined && typeof name !== 'string') throw new TypeError(`spawn option name must be a string, got ${describeValue(name)}`);
  return { name, priority: validateOneOf(priority, 'spawn option priority', ['high', 'normal']) };
}

function start<T>(delayMs: number, a: unknown, rest: unknown[]): GreenThread<T> {
  let name: string | undefined;
  let priority: Priority = 'normal';
  let fn = a;
  let args = rest;
  if (typeof a !== 'function' && a !== null && typeof a === 'object' && !Array.isArray(a) && !isOperationObject(a)) {
    ({ name, priority } = checkOptions(a));
    fn = rest[0];
    args = rest.slice(1);
  }
  checkBody(fn);
  return getHub().spawn(name, priority, fn as Body<unknown[], T>, args, delayMs);
}

/**
 * Starts a greenthread running `fn(...args)` and returns its `GreenThread` at once. The body
 * starts on a later turn of the hub; bodies start in spawn order within a priority. `fn` is a
 * generator function, or any function returning a generator or an operation
 * (`() => handle(conn)`, `() => serve(server, handler)`); a non-function or an async function
 * is a TypeError. The name defaults to fn's name.
 *
 * @example
 * ```ts
 * import { spawn, sleep } from 'greenhub';
 * const gt = spawn(function* greet(who: string) {
 *   yield* sleep(100);
 *   return `hello ${who}`;
 * }, 'world');
 * console.log(await gt); // "hello world"
 * spawn({ name: 'heartbeat', priority: 'high' }, heartbeat, conn);
 * ```
 */
export function spawn<A extends unknown[], T>(fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawn<A extends unknown[], T>(options: SpawnOptions, fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawn<T>(a: unknown, ...rest: unknown[]): GreenThread<T> {
  return start<T>(0, a, rest);
}

/**
 * Like {@link spawn}, but the body starts after `ms` milliseconds. Killing (or `cancel()`ing)
 * it before then means it never starts. The pending start holds the process open.
 *
 * @example
 * ```ts
 * const reminder = spawnAfter(5000, function* () { console.log('5 s passed'); });
 * reminder.cancel(); // changed our mind
 * ```
 */
export function spawnAfter<A extends unknown[], T>(ms: number, fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawnAfter<A extends unknown[], T>(ms: number, options: SpawnOptions, fn: Body<A, T>, ...args: A): GreenThread<T>;
export function spawnAfter<T>(ms: number, a: unknown, ...rest: unknown[]): GreenThread<T> {
  validateMs(ms, 'ms');
  return start<T>(ms, a, rest);
}

/**
 * The greenthread running now, or undefined outside any greenthread.
 *
 * @example
 * ```ts
 * spawn(function* worker() {
 *   console.log(current()?.name); // "worker"
 * });
 * ```
 */
export function current(): GreenThread<unknown> | undefined {
  return getHub().current;
}

/**
 * @internal What calling `fn(...args)` runs, as an operation: the generator it returns, or the
 * operation's own iterator (scope() runs its body in place with this).
 */
export function bodyOperation<A extends unknown[], T>(fn: Body<A, T>, args: A): Operation<T> {
  const r = fn(...args);
  if (r !== null && typeof r === 'object' && typeof (r as Iterator<unknown, T, unknown>).next === 'function') {
    return { [Symbol.iterator]: () => r as Iterator<unknown, T, unknown> };
  }
  return r as Operation<T>;
}
