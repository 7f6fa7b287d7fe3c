/**
 * connect(): a TCP or Unix connection, greenthread-style.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { isSystemError, systemError } from '../errors';
import { getHub } from '../hub/hub';
import { TimerKind } from '../hub/timers';
import { E, K, native } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateMs, validateOptions } from '../validate';
import { waitFor } from '../wait-for';
import { validatePort } from './address';
import { GreenSocket } from './socket';
import { blocking } from '../operation';

/**
 * Where to connect: TCP (`host`, a name or an IP literal, default `'localhost'`; `port`) or Unix
 * (`path`).
 *
 * @example
 * ```ts
 * const to: ConnectOptions = { host: 'localhost', port: 8080 };
 * ```
 */
export interface ConnectOptions {
  host?: string;
  port?: number;
  path?: string;
}

/**
 * Per-call options of `connect`: `timeoutMs` bounds the whole connect (name lookup and every
 * attempt).
 *
 * @example
 * ```ts
 * const sock = yield* connect({ host: 'localhost', port: 8080 }, { timeoutMs: 2000 });
 * ```
 */
export interface ConnectCallOptions {
  timeoutMs?: number;
}

interface Target {
  af: number;
  address: string;
}

/** One attempt: a non-blocking connect, then wait for writability and read SO_ERROR. */
function* attempt(t: Target, port: number): Green<GreenSocket> {
  const fd = native.socket(t.af, K.SOCK_STREAM);
  if (fd < 0) throw systemError(fd, 'socket');
  const context = t.af === K.AF_UNIX ? { address: t.address } : { address: t.address, port };
  let sock: GreenSocket | undefined;
  try {
    const r = native.connect(fd, t.af, t.address, port);
    // EAGAIN on a Unix socket means its backlog is full: an error, not a connect in progress.
    const inProgress = r === E.EINPROGRESS || (r === E.EAGAIN && t.af !== K.AF_UNIX);
    if (r < 0 && !inProgress) throw systemError(r, 'connect', context);
    sock = new GreenSocket(fd, t.af);
    if (inProgress) yield* sock.finishConnect(context);
    return sock;
  } catch (e) {
    if (sock) sock.close();
    else native.close(fd);
    throw e;
  }
}

function* connectOp(targets: Target[] | string, port: number, timeoutMs: number): Green<GreenSocket> {
  const hub = getHub();
  const gt = hub.requireCurrent('connect()');
  const timer = timeoutMs >= 0 ? hub.addTimer(TimerKind.Timeout, timeoutMs, gt, { ref: true, message: `connect timed out after ${timeoutMs} ms` }) : undefined;
  try {
    let list: Target[];
    if (typeof targets === 'string') {
      // A host name: every address it resolves to is tried in turn, so 'localhost' reaches a
      // server on 127.0.0.1 even where it resolves to ::1 first.
      const found = yield* waitFor(dns.promises.lookup(targets, { all: true }));
      list = found.map((a) => ({ af: a.family === 6 ? K.AF_INET6 : K.AF_INET, address: a.address }));
    } else {
      list = targets;
    }
    let last: unknown;
    for (const t of list) {
      try {
        return yield* attempt(t, port);
      } catch (e) {
        // Only the address's own failure (refused, unreachable…: a system error of socket or
        // connect) moves on to the next. A kill, a timeout or a race() cancellation thrown at
        // the wait ends the connect at once (attempt() has closed the half-made socket).
        if (!isSystemError(e)) throw e;
        last = e;
      }
    }
    throw last ?? new Error(`connect: no address found`);
  } finally {
    if (timer) hub.cancelTimer(timer);
  }
}

/**
 * Connects to a TCP server (a host name goes through `dns.lookup` with `all: true`; each
 * address is tried in turn) or a Unix socket, and returns a GreenSocket.
 *
 * @throws TypeError/RangeError for bad options before any syscall; `ECONNREFUSED` and other
 *   system errors with `address` and `port`; DNS errors (`ENOTFOUND`); TimeoutError past timeoutMs.
 *   No fd is left open on failure.
 * @example
 * ```ts
 * const sock = yield* connect({ host: 'localhost', port: 8080 }, { timeoutMs: 2000 });
 * ```
 */
export function connect(options: ConnectOptions, callOptions?: ConnectCallOptions): Operation<GreenSocket> {
  if (options === undefined) throw new TypeError('connect needs options: { host, port } or { path }, got undefined');
  validateOptions(options, 'connect options', ['host', 'port', 'path']);
  const call = validateOptions(callOptions, 'connect call options', ['timeoutMs']);
  const timeoutMs = call.timeoutMs === undefined ? -1 : validateMs(call.timeoutMs, 'timeoutMs');
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError(`path must be a non-empty string, got ${describeValue(options.path)}`);
    return blocking(connectOp([{ af: K.AF_UNIX, address: options.path }], 0, timeoutMs), 'connect()');
  }
  const port = validatePort(options.port, 'port', 1);
  const host = options.host ?? 'localhost';
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`host must be a non-empty string, got ${describeValue(host)}`);
  const v = net.isIP(host);
  return connectOp(v === 0 ? host : [{ af: v === 6 ? K.AF_INET6 : K.AF_INET, address: host }], port, timeoutMs);
}
