/** Argument checks shared by the public API: each throws a TypeError/RangeError naming the argument. */

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
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
export function validateMs(v: unknown, name: string, allowInfinity = false): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number of milliseconds, got ${describe(v)}`);
  if (v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new RangeError(`${name} must be ${allowInfinity ? '>= 0 (or Infinity)' : 'a finite number >= 0'}, got ${describe(v)}`);
  }
  return v;
}

export function validateFunction(v: unknown, name: string): asserts v is (...args: never[]) => unknown {
  if (typeof v !== 'function') throw new TypeError(`${name} must be a function, got ${describe(v)}`);
}

export { describe as describeValue };
