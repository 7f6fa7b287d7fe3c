/**
 * Every argument check of the public API: each throws a TypeError/RangeError that names the
 * argument and ends with what it got (", got …").
 */

function describe(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    if (Object.prototype.toString.call(v) === '[object Generator]') return 'a generator object';
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof v}`;
}

/** A non-negative integer file descriptor. */
export function validateFd(fd: unknown, name = 'fd'): number {
  if (typeof fd !== 'number') throw new TypeError(`${name} must be a file descriptor (a non-negative integer), got ${describe(fd)}`);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`${name} must be a non-negative integer, got ${describe(fd)}`);
  }
  return fd;
}

/** An integer in [min, max]. */
export function validateInt(v: unknown, name: string, min = -0x80000000, max = 0x7fffffff): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be an integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** A duration in ms: a finite number >= 0, or Infinity when `allowInfinity`. */
export function validateMs(v: unknown, name: string, options?: { allowInfinity: boolean }): number {
  const allowInfinity = options?.allowInfinity === true;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number of milliseconds, got ${describe(v)}`);
  if (v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new RangeError(`${name} must be ${allowInfinity ? '>= 0 (or Infinity)' : 'a finite number >= 0'}, got ${describe(v)}`);
  }
  return v;
}

export function validateFunction(v: unknown, name: string): asserts v is (...args: never[]) => unknown {
  if (typeof v !== 'function') throw new TypeError(`${name} must be a function, got ${describe(v)}`);
}

/** A Buffer or Uint8Array payload. */
export function validateBytes(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Buffer or Uint8Array, got ${describe(v)}`);
  return v;
}

/** The hub's time slice: a finite number of ms >= 0 (anything else, NaN included, is a RangeError). */
export function validateSliceMs(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`timeSliceMs must be a finite number of ms >= 0, got ${describe(ms)}`);
  }
  return ms;
}

/** A boolean, or undefined (then `fallback`). */
export function validateBoolean(v: unknown, name: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`);
  return v;
}

/** One of a fixed set of strings. */
export function validateOneOf<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) {
    throw new TypeError(`${name} must be ${allowed.map((a) => `'${a}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${describe(v)}`);
  }
  return v as T;
}

const NO_OPTIONS = Object.freeze({});

/**
 * An options bag: undefined (then `{}`) or a plain object whose keys are all in `known`. A key
 * it does not know (a typo like `{ prot: 80 }`) is a TypeError, not silently ignored.
 */
export function validateOptions<T extends object>(v: T | undefined, name: string, known: readonly string[]): T {
  if (v === undefined) return NO_OPTIONS as T; // shared: no allocation per call on hot paths
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${name} must be an object, got ${describe(v)}`);
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name}: unknown option (a typo?); the options are ${known.join(', ')}, got '${key}'`);
    }
  }
  return v;
}

/** The `timeoutMs` of a per-call options bag: -1 when there is none. */
export function timeoutOf(options: { timeoutMs?: number } | undefined, name: string): number {
  const o = validateOptions(options, name, ['timeoutMs']);
  return o.timeoutMs === undefined ? -1 : validateMs(o.timeoutMs, 'timeoutMs');
}

export { describe as describeValue };
