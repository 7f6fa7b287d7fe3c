/**
 * connect(): a TCP or Unix connection, greenthread-style.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { validatePort } from './address';
import { TimeoutError } from '../errors';
import { waitFdReady } from '../hub/fd-wait';
import { getHub } from '../hub/hub';
import { TimerKind } from '../hub/timers';
import { E, K, native, systemError } from '../native';
import { GreenSocket } from './socket';
import type { Green, Operation } from '../types';
import { describeValue, validateMs } from '../validate';
import { waitFor } from '../wait-for';

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

/** Per-call options: `timeoutMs` bounds the whole connect (name lookup and every attempt). */
export interface ConnectCallOptions {
  timeoutMs?: number;
}

interface Target {
  af: number;
  address: string;
}

/** One attempt: a non-blocking connect, then wait for writability and read SO_ERROR. */
function* attempt(t: Target, port: number): Green<GreenSocket> {
  const hub = getHub();
  const fd = native.socket(t.af, K.SOCK_STREAM);
  if (fd < 0) throw systemError(fd, 'socket');
  let ok = false;
  try {
    let r = native.connect(fd, t.af, t.address, port);
    // EAGAIN on a Unix socket means its backlog is full: an error, not a connect in progress.
    if (r === E.EINPROGRESS || (r === E.EAGAIN && t.af !== K.AF_UNIX)) {
      hub.registerFd(fd);
      try {
        yield* waitFdReady(hub, fd, true, true, -1, '');
      } catch (e) {
        hub.closeFd(fd, e, false);
        throw e;
      }
      const soErr = native.getsockopt(fd, K.SOL_SOCKET, K.SO_ERROR);
      r = soErr < 0 ? soErr : -soErr;
      if (r < 0) hub.closeFd(fd, undefined, false);
    } else if (r === 0) {
      hub.registerFd(fd);
    }
    if (r < 0) throw systemError(r, 'connect', t.af === K.AF_UNIX ? { address: t.address } : { address: t.address, port });
    ok = true;
    return new GreenSocket(fd, t.af, true);
  } finally {
    if (!ok) native.close(fd);
  }
}

function* connectOp(targets: Target[] | string, port: number, timeoutMs: number): Green<GreenSocket> {
  const hub = getHub();
  const gt = hub.requireCurrent('connect()');
  const timer = timeoutMs >= 0 ? hub.addTimer(timeoutMs, TimerKind.Timeout, gt, undefined, true, `connect timed out after ${timeoutMs} ms`) : undefined;
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
        if (e instanceof TimeoutError) throw e;
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
export function connect(options: ConnectOptions, callOptions: ConnectCallOptions = {}): Operation<GreenSocket> {
  if (options === null || typeof options !== 'object') throw new TypeError(`connect options must be an object, got ${describeValue(options)}`);
  const timeoutMs = callOptions.timeoutMs === undefined ? -1 : validateMs(callOptions.timeoutMs, 'timeoutMs');
  getHub().requireCurrent('connect()');
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError(`path must be a non-empty string, got ${describeValue(options.path)}`);
    return connectOp([{ af: K.AF_UNIX, address: options.path }], 0, timeoutMs);
  }
  const port = validatePort(options.port, 'port', 1);
  const host = options.host ?? 'localhost';
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`host must be a non-empty string, got ${describeValue(host)}`);
  const v = net.isIP(host);
  return connectOp(v === 0 ? host : [{ af: v === 6 ? K.AF_INET6 : K.AF_INET, address: host }], port, timeoutMs);
}
