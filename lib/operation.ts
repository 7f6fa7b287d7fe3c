/**
 * What every blocking call does with the operation it returns: `blocking(op, 'recv()')`.
 *
 * 1. It checks, at the call, that it runs inside a greenthread: `await sock.recv()` or a
 *    `sock.sendAll(buf)` in async code fails at once, saying what to write instead.
 * 2. `await op` (an operation is not a promise) throws the same teaching error: operations get
 *    a `then` that rejects.
 * 3. In debug mode (`getHub().debug`, or `GREENHUB_DEBUG=1`) the operation remembers where it
 *    was created: one that is never run — a `sock.sendAll(buf);` without `yield*` — is reported
 *    with that file:line once it is garbage-collected; a `yield op` without the star names it;
 *    `dump()` shows where each greenthread waits. Off, none of this allocates: one flag read.
 */
import { getHub } from './hub/hub';
import { rejectAwait as then } from './hub/instructions';
import type { Operation } from './types';

/**
 * Gives the operations of a class (or one object) the rejecting `then`. For hand-written
 * operation classes, at module load; generator operations get it per generator function, the
 * first time one is returned (their prototype is that function's own).
 */
export function notAPromise(proto: object): void {
  if (!Object.prototype.hasOwnProperty.call(proto, 'then')) {
    Object.defineProperty(proto, 'then', { value: then, configurable: true, writable: true });
  }
}

/** On Symbol.for: the hub (another copy of greenhub, maybe) reads the site of a traced op. */
const SITE = Symbol.for('greenhub.operationSite');

/** Where an operation was made (debug mode), for a message. */
export function operationSite(op: unknown): string | undefined {
  return typeof op === 'object' && op !== null ? ((op as Record<symbol, string | undefined>)[SITE]) : undefined;
}

/** An operation that is never run: reported when it is collected. */
const neverRun = new FinalizationRegistry<{ what: string; site: Site }>(({ what, site }) => {
  getHub().warn(`${what} created at ${site} was never run: write \`yield* ${what.replace(/\(\)$/, '(…)')}\` (with the star) to run it`);
});

/**
 * Where an operation was made: the stack is captured at once (cheap: V8 keeps its frames) and
 * formatted only when a report or dump reads it, so debug mode costs microseconds, not tens.
 */
class Site {
  readonly #holder: { stack?: string } = {};
  #text: string | undefined;

  constructor() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 6; // the user's frame is within the first few: greenhub calls are shallow
    Error.captureStackTrace(this.#holder, blocking);
    Error.stackTraceLimit = limit;
  }

  /** The first frame outside greenhub: "file:line:column". */
  toString(): string {
    if (this.#text === undefined) {
      const frames = (this.#holder.stack ?? '').split('\n').slice(1).map((l) => l.trim().replace(/^at /, ''));
      const user = frames.find((f) => !f.includes(__dirname) && !f.includes('node:internal'));
      this.#text = (user ?? frames[0] ?? 'an unknown place').replace(/^.*\((.*)\)$/, '$1');
    }
    return this.#text;
  }
}

/** A debug-mode operation: the real one, plus where it was made and whether it ever ran. */
class Traced<T> implements Operation<T> {
  readonly #site = new Site();
  #ran = false;

  constructor(readonly inner: Operation<T>, readonly what: string) {
    neverRun.register(this, { what, site: this.#site }, this);
  }

  /** Where it was made (read by the hub for a `yield op` without the star). */
  get [SITE](): string {
    return String(this.#site);
  }

  [Symbol.iterator](): Iterator<unknown, T, unknown> {
    if (!this.#ran) {
      this.#ran = true;
      neverRun.unregister(this);
    }
    const it = this.inner[Symbol.iterator]();
    const gt = getHub().current;
    if (gt === undefined) return it;
    // dump() shows where the greenthread waits: this operation's site, while it runs.
    const prev = gt.opSite;
    gt.opSite = this.#site;
    const restore = <R>(r: R): R => {
      gt.opSite = prev;
      return r;
    };
    return {
      next: (v?: unknown) => {
        const r = it.next(v);
        return r.done ? restore(r) : r;
      },
      throw: (e?: unknown) => {
        try {
          const r = it.throw ? it.throw(e) : (() => { throw e; })();
          return r.done ? restore(r) : r;
        } catch (err) {
          throw restore(err);
        }
      },
      return: (v?: unknown) => restore(it.return ? it.return(v as T) : { done: true as const, value: v as T }),
    };
  }
}
notAPromise(Traced.prototype);

/**
 * The one path of every operation a blocking call returns: checks that it runs inside a
 * greenthread (else throws, naming `what`), makes `await op` fail loudly, and in debug mode
 * traces where it was made.
 */
export function blocking<T>(op: Operation<T>, what: string): Operation<T> {
  const hub = getHub();
  if (hub.current === undefined) hub.requireCurrent(what);
  // A generator's prototype is its function's own: patched once per generator function. (Never
  // Object.prototype: that would make every object a thenable.)
  if ((op as { then?: unknown }).then !== then) {
    const proto = Object.getPrototypeOf(op) as object | null;
    if (proto !== null && proto !== Object.prototype && typeof (op as { next?: unknown }).next === 'function') notAPromise(proto);
  }
  return hub.debug ? new Traced(op, what) : op;
}
