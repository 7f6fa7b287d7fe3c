/**
 * Every error greenhub makes is built here: the two it throws by name (GreenletExit and
 * TimeoutError, branded on `Symbol.for(...)` so two copies of the module in one process, which
 * share one hub, recognise each other's), Node-style system errors from `-errno`, and the coded
 * errors of green I/O (closed, role taken, line too long, end of stream).
 */
import * as util from 'node:util';

const EXIT_BRAND = Symbol.for('greenhub.GreenletExit');
const TIMEOUT_BRAND = Symbol.for('greenhub.TimeoutError');

/**
 * Thrown into a greenthread by `kill()` (the default error), as in eventlet. A greenthread that
 * ends with it was killed, not broken: it is never reported to the hub's error handler.
 * Waiters of a killed greenthread get it from `wait()`.
 *
 * @example
 * ```ts
 * const gt = spawn(function* () {
 *   try { yield* sleep(1000); } finally { console.log('cleaned up'); }
 * });
 * yield* sleep(0);
 * gt.kill(); // logs "cleaned up" before kill() returns
 * try { yield* gt.wait(); } catch (e) { console.log(e instanceof GreenletExit); } // true
 * ```
 */
export class GreenletExit extends Error {
  constructor(message = 'greenthread killed') {
    super(message);
    this.name = 'GreenletExit';
    Object.defineProperty(this, EXIT_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[EXIT_BRAND] === true;
  }
}

/**
 * Thrown by every blocking call whose timeout passed (and by `withTimeout`): `code` is
 * `'ETIMEDOUT'`, like Node's own timeouts. (`Semaphore.acquire` returns false instead.)
 *
 * @example
 * ```ts
 * try {
 *   yield* trampoline(fd, { read: true, timeoutMs: 500 });
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log(e.code); // 'ETIMEDOUT'
 * }
 * ```
 */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  /** The `timeout()` object whose deadline threw it (unset for other timeouts). */
  declare readonly timeout?: import('./sync/timeout').Timeout;
  constructor(message = 'operation timed out') {
    super(message);
    this.name = 'TimeoutError';
    Object.defineProperty(this, TIMEOUT_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TIMEOUT_BRAND] === true;
  }
}

/** Whether err is a GreenletExit from any copy of greenhub. */
export function isGreenletExit(err: unknown): boolean {
  return err instanceof GreenletExit;
}

/** Extra facts to attach to a system error (Node's `address`/`port`, or a path). */
export interface ErrorContext {
  address?: string;
  port?: number;
  path?: string;
  /** Text appended to the message, after the syscall and code. */
  detail?: string;
}

/** A Node-style system error: `code`, `errno` (negative, as Node's), `syscall`, and context. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
  path?: string;
}

/**
 * Turns `-errno` from a native call into an Error shaped like Node's own: message
 * `"connect ECONNREFUSED 127.0.0.1:8080"`, `code`, `errno`, `syscall`, `address`, `port`.
 */
export function systemError(negErrno: number, syscall: string, ctx?: ErrorContext): SystemError {
  const errno = negErrno < 0 ? negErrno : -negErrno;
  let code: string;
  try {
    code = util.getSystemErrorName(errno);
  } catch {
    code = `Unknown system error ${errno}`;
  }
  let message = `${syscall} ${code}`;
  if (ctx?.address !== undefined) {
    message += ` ${ctx.address}${ctx.port !== undefined && ctx.port > 0 ? `:${ctx.port}` : ''}`;
  } else if (ctx?.path !== undefined) {
    message += ` ${ctx.path}`;
  }
  if (ctx?.detail) message += ` (${ctx.detail})`;
  const err = new Error(message) as SystemError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  if (ctx?.address !== undefined) err.address = ctx.address;
  if (ctx?.port !== undefined) err.port = ctx.port;
  if (ctx?.path !== undefined) err.path = ctx.path;
  Error.captureStackTrace(err, systemError);
  return err;
}

/** An Error with a Node-style `code`. */
export type CodedError = Error & { code: string };

function coded(message: string, code: string): CodedError {
  const err = new Error(message) as CodedError;
  err.code = code;
  return err;
}

/** A call on something already closed: "socket is closed", with `code` naming what (`ERR_SOCKET_CLOSED`…). */
export function closedError(what: string, code: string): CodedError {
  return coded(`${what} is closed`, code);
}

/** A second greenthread reading (or writing, accepting) where one at a time is the rule. */
export function roleTakenError(what: string, role: string, holder: { id: number; name: string }): CodedError {
  const article = /^[aeiou]/.test(role) ? 'an' : 'a';
  return coded(`${what} already has ${article} ${role}: greenthread ${holder.id} (${holder.name}); one at a time`, 'ERR_ROLE_TAKEN');
}

/** readUntil/readLine found no delimiter within maxBytes. */
export function lineTooLongError(maxBytes: number): CodedError {
  return coded(`no delimiter within ${maxBytes} bytes`, 'ERR_LINE_TOO_LONG');
}

/** readExactly met the end of the stream first. */
export function endOfStreamError(got: number, wanted: number): CodedError {
  return coded(`end of stream after ${got} of ${wanted} bytes`, 'ERR_END_OF_STREAM');
}

/** A TLS handshake failed: the underlying error is the `cause`, and its `code` is kept. */
export function handshakeError(e: unknown): Error & { code?: string } {
  const cause = e as Error & { code?: string };
  const err = new Error(`TLS handshake failed: ${cause?.message ?? String(e)}`, { cause }) as Error & { code?: string };
  if (cause?.code) err.code = cause.code;
  return err;
}

/** Whether err is a system error built from -errno (it has `syscall` and a numeric `errno`). */
export function isSystemError(err: unknown): err is SystemError {
  return err instanceof Error && typeof (err as Partial<SystemError>).syscall === 'string' && typeof (err as Partial<SystemError>).errno === 'number';
}
