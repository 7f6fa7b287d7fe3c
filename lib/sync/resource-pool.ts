/**
 * ResourcePool: reusable resources (connections, clients) handed out one greenthread at a time
 * (eventlet's pools.Pool, and the core of its db_pool).
 *
 * The rules, in one place:
 * - `get` takes an idle resource (the most recently returned: LIFO, so a busy few stay warm and
 *   `idleMs` can retire the rest; eventlet's default is FIFO), else creates one while fewer than
 *   `max` exist or are being created, else waits in strict FIFO order.
 * - Capacity is handed on, never raced for: `put` gives the resource straight to the first
 *   waiting getter; a destroyed resource's slot goes to the first waiter as a right to create.
 *   A getter killed after it was handed either gives it back (to the next waiter, or idle).
 * - `destroy` runs in a greenthread of its own ("ResourcePool destroy"), started at once: a
 *   caller being killed never runs it half-way, and its errors go to the hub's error handler.
 */
import { closedError } from '../errors';
import { rejectAwait } from '../hub/instructions';
import { blocking } from '../operation';
import { spawn } from '../spawn';
import type { Green, Operation } from '../types';
import { describeValue, timeoutOf, validateBoolean, validateFunction, validateInt, validateMs, validateOptions } from '../validate';
import { waitFor } from '../wait-for';
import { withTimeoutOp } from './timeout';
import { WaitList } from './wait-list';

/**
 * What create, destroy, validate and use's fn may return: a value, a promise of it, or an
 * operation that returns it (a generator, or a greenhub blocking call such as `connect(…)`).
 *
 * @example
 * ```ts
 * const create: () => MaybeGreen<GreenSocket> = () => connect({ port: 6379 });
 * ```
 */
export type MaybeGreen<T> = T | PromiseLike<T> | Operation<T> | Iterator<unknown, T, unknown>;

/**
 * Options of {@link ResourcePool}.
 *
 * @example
 * ```ts
 * const opts: ResourcePoolOptions<GreenSocket> = {
 *   create: () => connect({ port: 6379 }),
 *   destroy: (s) => s.close(),
 *   max: 8,
 *   idleMs: 30_000,
 * };
 * ```
 */
export interface ResourcePoolOptions<R> {
  /** Makes a resource: a generator function (`function* () { return yield* connect(…); }`), a plain function, or one returning a promise. */
  create: () => MaybeGreen<R>;
  /** Disposes of one (closes a socket…). Runs in its own greenthread; its errors go to the hub's error handler. */
  destroy?: (resource: R) => MaybeGreen<unknown>;
  /** Checked on every resource `get` hands out except one it just created: false (or a throw) → destroyed. */
  validate?: (resource: R) => MaybeGreen<boolean>;
  /** Idle resources `idleMs` never retires below this many live ones (none are made ahead). Default 0. */
  min?: number;
  /** At most this many resources live or being created. Default 4 (eventlet's). */
  max?: number;
  /** Idle this long (above `min`), a resource is destroyed. Default: never. The timer never holds the process. */
  idleMs?: number;
}

/** A getter was handed the right to create one resource (a slot), rather than a resource. */
const CREATE: unique symbol = Symbol('create a resource');

/** Calls fn(...args) and runs what it returns: a generator with yield*, a promise with waitFor. */
function* call<T>(fn: (...args: never[]) => MaybeGreen<T>, args: unknown[], late?: (value: T) => void): Green<T> {
  const r = (fn as (...a: unknown[]) => MaybeGreen<T>)(...args);
  if (r !== null && typeof r === 'object') {
    // A generator; or an operation of greenhub's (its `then` is the one that rejects `await`):
    // never a resource that merely is iterable, like an array.
    if (typeof (r as Iterator<unknown>).next === 'function' && Symbol.iterator in r) return yield* { [Symbol.iterator]: () => r as unknown as Iterator<unknown, T, unknown> };
    if ((r as { then?: unknown }).then === rejectAwait) return yield* (r as Operation<T>);
  }
  if (r === null || (typeof r !== 'object' && typeof r !== 'function') || typeof (r as PromiseLike<T>).then !== 'function') return r as T;
  let settled = false;
  try {
    const value = yield* waitFor(r as PromiseLike<T>);
    settled = true;
    return value as T;
  } finally {
    // Abandoned (a kill, a timeout): whatever the promise makes later must not leak.
    if (!settled && late !== undefined) (r as PromiseLike<T>).then(late, () => {});
  }
}

function poolError(message: string, code: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * A pool of reusable resources. `yield* pool.use(function* (conn) { … })` is the usual way
 * in: it always gives the resource back.
 *
 * @example
 * ```ts
 * const pool = new ResourcePool({ create: () => connect({ port: 5432 }), destroy: (s) => s.close(), max: 10 });
 * const reply = yield* pool.use(function* (sock) {
 *   yield* sock.sendAll(Buffer.from('PING\n'));
 *   return yield* sock.readLine();
 * }, { discardOnError: true });
 * ```
 */
export class ResourcePool<R> {
  readonly min: number;
  readonly max: number;
  readonly idleMs: number;
  readonly #create: () => MaybeGreen<R>;
  readonly #destroyFn: ((r: R) => MaybeGreen<unknown>) | undefined;
  readonly #validate: ((r: R) => MaybeGreen<boolean>) | undefined;
  /** Live resources: idle, or out (taken by a getter, or handed to one that has not resumed). */
  readonly #live = new Map<R, 'idle' | 'out'>();
  /** Idle resources, oldest first; get takes from the end. */
  #idle: Array<{ resource: R; since: number }> = [];
  /** Creates in flight, and slots handed to waiters that have not resumed: they count against max. */
  #creating = 0;
  /** Destroy greenthreads still running (drain waits for them). */
  #destroying = 0;
  #closed = false;
  #reaper: NodeJS.Timeout | undefined;
  readonly #getters: WaitList;
  readonly #drainers = new WaitList('ResourcePool.drain()');

  constructor(options: ResourcePoolOptions<R>) {
    options = validateOptions(options, 'ResourcePool options', ['create', 'destroy', 'validate', 'min', 'max', 'idleMs']);
    validateFunction(options.create, 'create');
    if (options.destroy !== undefined) validateFunction(options.destroy, 'destroy');
    if (options.validate !== undefined) validateFunction(options.validate, 'validate');
    this.max = options.max === undefined ? 4 : validateInt(options.max, 'max', 1, Number.MAX_SAFE_INTEGER);
    this.min = options.min === undefined ? 0 : validateInt(options.min, 'min', 0, this.max);
    this.idleMs = options.idleMs === undefined ? Infinity : validateMs(options.idleMs, 'idleMs', { allowInfinity: true });
    this.#create = options.create;
    this.#destroyFn = options.destroy;
    this.#validate = options.validate;
    // A getter killed after it was handed a resource or a slot gives it back.
    this.#getters = new WaitList('ResourcePool.get()', (v) => {
      if (v === CREATE) this.#releaseSlot();
      else this.#return(v as R);
    });
  }

  /** Live resources: idle and in use (creates in flight count against `max`, not here). */
  get size(): number {
    return this.#live.size;
  }

  /** Idle resources. */
  free(): number {
    return this.#idle.length;
  }

  /** Greenthreads waiting in get(). */
  waiting(): number {
    return this.#getters.length;
  }

  /** Whether drain() was called: get() throws, put() destroys. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Takes a resource: an idle one (validated), a new one while fewer than `max` exist, or the
   * first one put back or slot freed (FIFO). Throws TimeoutError past `timeoutMs`, which bounds
   * the whole call, create and validate included; a create's error (its slot released); or
   * `ERR_POOL_CLOSED` once drain() was called. Give it back with put() (or use use()).
   *
   * @example
   * ```ts
   * const conn = yield* pool.get({ timeoutMs: 1000 });
   * try { yield* conn.sendAll(req); } finally { pool.put(conn); }
   * ```
   */
  get(options?: { timeoutMs?: number }): Operation<R> {
    const timeoutMs = timeoutOf(options, 'ResourcePool.get options');
    return blocking(this.#get(timeoutMs), 'ResourcePool.get()');
  }

  *#get(timeoutMs: number): Green<R> {
    if (this.#closed) throw closedError('ResourcePool', 'ERR_POOL_CLOSED');
    const deadline = timeoutMs < 0 ? -1 : performance.now() + timeoutMs;
    let grant: R | typeof CREATE | undefined;
    if (this.#getters.length === 0) {
      if (this.#idle.length > 0) grant = this.#takeIdle();
      else if (this.#used() < this.max) {
        this.#creating++;
        grant = CREATE;
      }
    }
    for (;;) {
      grant ??= (yield* this.#getters.wait(undefined, remainingMs(deadline))) as R | typeof CREATE;
      if (grant === CREATE) return yield* this.#createOne(deadline);
      const r: R = grant;
      if (yield* this.#check(r, deadline)) return r;
      // Invalid: try the next idle one; else its slot is ours, to create a replacement
      // without queueing again.
      this.#live.delete(r);
      this.#destroy(r);
      if (this.#idle.length > 0) grant = this.#takeIdle();
      else {
        this.#creating++;
        grant = CREATE;
      }
    }
  }

  /** validate(r), within the deadline; a throw (a kill included) destroys r and frees its slot. */
  *#check(r: R, deadline: number): Green<boolean> {
    if (this.#validate === undefined) return true;
    let ok = false;
    let threw = true;
    try {
      ok = yield* bounded(call(this.#validate, [r]), deadline, 'ResourcePool.get() (validate) timed out');
      threw = false;
    } finally {
      if (threw) this.discard(r);
    }
    return ok === true;
  }

  /** Runs create on a slot already counted in #creating; the slot is released whatever happens. */
  *#createOne(deadline: number): Green<R> {
    let r: R;
    try {
      r = yield* bounded(call(this.#create, [], (late) => this.#destroyLate(late)), deadline, 'ResourcePool.get() (create) timed out');
    } catch (e) {
      this.#releaseSlot();
      throw e;
    }
    this.#creating--;
    if (r === undefined || r === null) {
      // `create() { connect(…) }` without its return: a resource of undefined could never be
      // told from "nothing handed over", and its slot would be lost for good.
      this.#grant();
      throw new TypeError(`ResourcePool: create() must return a resource (or a promise or generator of one), got ${r}: is a \`return\` missing?`);
    }
    if (this.#live.has(r)) {
      this.#grant();
      throw poolError('ResourcePool: create() returned a resource that is already in the pool', 'ERR_POOL_DUPLICATE');
    }
    if (this.#closed) {
      this.#destroyLate(r); // drained while it was being made: nobody is to use it
      this.#checkDrained();
      throw closedError('ResourcePool', 'ERR_POOL_CLOSED');
    }
    this.#live.set(r, 'out');
    return r;
  }

  /**
   * Gives a resource back: to the first waiting getter, or idle. A plain call. A resource this
   * pool did not hand out, or one put back twice, is an error (`ERR_POOL_FOREIGN`,
   * `ERR_POOL_DOUBLE_PUT`). After drain() the resource is destroyed.
   *
   * @example
   * ```ts
   * pool.put(conn);
   * ```
   */
  put(resource: R): void {
    this.#checkOut(resource, 'put');
    if (this.#closed) {
      this.#live.delete(resource);
      this.#destroy(resource);
      return;
    }
    this.#return(resource);
  }

  /**
   * Destroys a resource taken with get() instead of putting it back (it is broken); its slot
   * goes to the first waiting getter. A plain call.
   *
   * @example
   * ```ts
   * try { yield* conn.sendAll(req); pool.put(conn); } catch (e) { pool.discard(conn); throw e; }
   * ```
   */
  discard(resource: R): void {
    this.#checkOut(resource, 'discard');
    this.#live.delete(resource);
    this.#destroy(resource);
    this.#grant();
  }

  /**
   * Runs fn(resource) with a resource from get() and always gives it back: put() when fn
   * returns or throws, or, with `discardOnError`, discard() when it throws (a kill or a
   * timeout included: a connection left half-way through a request is not fit for the next
   * user). fn may be a generator function, a plain function or return a promise. `timeoutMs`
   * bounds the get (as in get()), not fn.
   *
   * @example
   * ```ts
   * const rows = yield* pool.use(function* (db) { return yield* db.query('SELECT 1'); }, { discardOnError: true, timeoutMs: 500 });
   * ```
   */
  use<T>(fn: (resource: R) => MaybeGreen<T>, options?: { discardOnError?: boolean; timeoutMs?: number }): Operation<T> {
    validateFunction(fn, 'fn');
    const o = validateOptions(options, 'ResourcePool.use options', ['discardOnError', 'timeoutMs']);
    const discardOnError = validateBoolean(o.discardOnError, 'discardOnError', false);
    const timeoutMs = o.timeoutMs === undefined ? -1 : validateMs(o.timeoutMs, 'timeoutMs');
    return blocking(this.#use(fn, discardOnError, timeoutMs), 'ResourcePool.use()');
  }

  *#use<T>(fn: (resource: R) => MaybeGreen<T>, discardOnError: boolean, timeoutMs: number): Green<T> {
    const r = yield* this.#get(timeoutMs);
    let ok = false;
    try {
      const value = yield* call(fn, [r]);
      ok = true;
      return value;
    } finally {
      if (ok || !discardOnError) this.#giveBack(r);
      else if (this.#live.get(r) === 'out') this.discard(r);
    }
  }

  /** use()'s put: fn may have put or discarded the resource itself; then there is nothing to do. */
  #giveBack(r: R): void {
    if (this.#live.get(r) === 'out') this.put(r);
  }

  /**
   * Closes the pool and waits until every resource is destroyed: get() throws `ERR_POOL_CLOSED`
   * from now on (waiting getters at once), idle resources are destroyed now, resources in use
   * are destroyed as they are put back (drain waits for them), and creates in flight are
   * destroyed when they finish. Returns once `size` is 0 and every destroy has ended; past
   * `timeoutMs` it throws TimeoutError and the pool goes on draining. Calling it again waits again.
   *
   * @example
   * ```ts
   * yield* pool.drain({ timeoutMs: 5000 });
   * ```
   */
  drain(options?: { timeoutMs?: number }): Operation<void> {
    const timeoutMs = timeoutOf(options, 'ResourcePool.drain options');
    return blocking(this.#drain(timeoutMs), 'ResourcePool.drain()');
  }

  *#drain(timeoutMs: number): Green<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopReaper();
      this.#getters.wakeAll(undefined, { error: closedError('ResourcePool', 'ERR_POOL_CLOSED') });
      for (const { resource } of this.#idle.splice(0)) {
        this.#live.delete(resource);
        this.#destroy(resource);
      }
    }
    if (this.#isDrained()) return;
    yield* this.#drainers.wait(undefined, timeoutMs);
  }

  // ---------------------------------------------------------------- bookkeeping

  #used(): number {
    return this.#live.size + this.#creating;
  }

  #checkOut(resource: R, what: string): void {
    const state = this.#live.get(resource);
    if (state === 'out') return;
    if (state === 'idle') throw poolError(`ResourcePool.${what}(): this resource was already put back (a double put)`, 'ERR_POOL_DOUBLE_PUT');
    throw poolError(`ResourcePool.${what}() of a resource this pool did not hand out (or already destroyed), got ${describeValue(resource)}`, 'ERR_POOL_FOREIGN');
  }

  #takeIdle(): R {
    const r = this.#idle.pop()!.resource;
    this.#live.set(r, 'out');
    if (this.#idle.length === 0) this.#stopReaper();
    return r;
  }

  /** An out resource comes back: to the first waiter, else idle. */
  #return(r: R): void {
    if (this.#closed) {
      this.#live.delete(r);
      this.#destroy(r);
      return;
    }
    if (this.#getters.wakeFirst(r) !== undefined) return;
    this.#live.set(r, 'idle');
    this.#idle.push({ resource: r, since: performance.now() });
    this.#armReaper();
  }

  /** A slot counted in #creating was not used: to the first waiter, or free. */
  #releaseSlot(): void {
    this.#creating--;
    this.#grant();
    this.#checkDrained();
  }

  /** Free capacity goes to waiting getters, as rights to create. */
  #grant(): void {
    while (!this.#closed && this.#getters.length > 0 && this.#used() < this.max) {
      this.#creating++;
      this.#getters.wakeFirst(CREATE);
    }
  }

  /** Runs destroy(r) in a greenthread of its own; r has left #live already. */
  #destroy(r: R): void {
    const destroy = this.#destroyFn;
    if (destroy === undefined) {
      this.#checkDrained();
      return;
    }
    this.#destroying++;
    spawn({ name: 'ResourcePool destroy' }, () => this.#runDestroy(destroy, r));
  }

  *#runDestroy(destroy: (r: R) => MaybeGreen<unknown>, r: R): Green<void> {
    try {
      yield* call(destroy, [r]);
    } finally {
      this.#destroying--;
      this.#checkDrained();
    }
  }

  /** A resource made for a getter that is gone (killed, timed out) or for a drained pool. */
  #destroyLate(r: R): void {
    this.#destroy(r);
  }

  #isDrained(): boolean {
    return this.#live.size === 0 && this.#creating === 0 && this.#destroying === 0;
  }

  #checkDrained(): void {
    if (this.#closed && this.#drainers.length > 0 && this.#isDrained()) this.#drainers.wakeAll(undefined);
  }

  // ---------------------------------------------------------------- idle reaper

  /** One unref'd Node timer for the oldest idle resource above min; none when nothing can expire. */
  #armReaper(): void {
    if (this.#reaper !== undefined || this.idleMs === Infinity || this.#closed) return;
    if (this.#idle.length === 0 || this.#live.size <= this.min) return;
    const dueIn = Math.max(1, Math.ceil(this.#idle[0].since + this.idleMs - performance.now()));
    this.#reaper = setTimeout(() => this.#reap(), dueIn);
    this.#reaper.unref();
  }

  #stopReaper(): void {
    if (this.#reaper !== undefined) clearTimeout(this.#reaper);
    this.#reaper = undefined;
  }

  #reap(): void {
    this.#reaper = undefined;
    const now = performance.now();
    while (this.#idle.length > 0 && this.#live.size > this.min && this.#idle[0].since + this.idleMs <= now) {
      const { resource } = this.#idle.shift()!;
      this.#live.delete(resource);
      this.#destroy(resource);
    }
    this.#armReaper();
  }
}

/** Milliseconds left until deadline (-1: none). */
function remainingMs(deadline: number): number {
  return deadline < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
}

/** op, under what is left of the deadline. */
function bounded<T>(op: Green<T>, deadline: number, message: string): Green<T> {
  return deadline < 0 ? op : withTimeoutOp(remainingMs(deadline), op, message);
}
