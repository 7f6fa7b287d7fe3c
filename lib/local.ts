/**
 * local(): greenthread-local storage (eventlet's corolocal.local).
 */
import type { AnyGreenThread } from './hub/greenthread';
import { getHub } from './hub/hub';
import { validateBoolean, validateOptions } from './validate';

/**
 * Options of {@link local}.
 *
 * @example
 * ```ts
 * const ctx = local<{ requestId?: string }>({ inherit: true });
 * ```
 */
export interface LocalOptions {
  /** A greenthread spawned by another starts with a copy of its parent's values (default false). */
  inherit?: boolean;
}

/**
 * An object whose properties are per greenthread: each greenthread reads and writes its own
 * values (code outside any greenthread has one set of its own). Children start empty unless
 * `inherit` is set, then with a copy of their parent's values as they were when the child first
 * touched them.
 *
 * @example
 * ```ts
 * import { local, spawn } from 'greenhub';
 * const ctx = local<{ requestId?: string }>();
 * spawn(function* handle(sock) {
 *   ctx.requestId = crypto.randomUUID();
 *   yield* work(sock); // anything it calls sees this greenthread's requestId
 * });
 * ```
 */
export function local<T extends object = Record<string, unknown>>(options: LocalOptions = {}): T {
  validateOptions(options, 'local options', ['inherit']);
  const inherit = validateBoolean(options.inherit, 'inherit', false);
  const key = {};
  const outside: Record<PropertyKey, unknown> = {};

  const valuesOf = (gt: AnyGreenThread | undefined): Record<PropertyKey, unknown> => {
    if (gt === undefined) return outside;
    let map = gt.locals;
    if (map === undefined) map = gt.locals = new WeakMap();
    let values = map.get(key);
    if (values === undefined) {
      values = inherit && gt.parent !== undefined ? { ...valuesOf(gt.parent) } : {};
      map.set(key, values);
    }
    return values;
  };
  const mine = () => valuesOf(getHub().current);

  return new Proxy({} as T, {
    get: (_t, p) => mine()[p],
    set: (_t, p, v) => {
      mine()[p] = v;
      return true;
    },
    has: (_t, p) => p in mine(),
    deleteProperty: (_t, p) => delete mine()[p],
    ownKeys: () => Reflect.ownKeys(mine()),
    getOwnPropertyDescriptor: (_t, p) => {
      const d = Object.getOwnPropertyDescriptor(mine(), p);
      if (d) d.configurable = true;
      return d;
    },
    defineProperty: (_t, p, d) => Reflect.defineProperty(mine(), p, d),
  });
}
