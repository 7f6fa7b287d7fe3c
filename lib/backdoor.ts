/**
 * backdoor: eventlet.backdoor — a Node REPL inside the running process, served over a green
 * socket, to look at greenthreads (`dump()`) and poke at live state while the program runs.
 *
 * WHAT IT EXPOSES: whoever connects runs any code as this process's user (read its memory and
 * secrets, open files, spawn programs). There is no authentication. So it listens on loopback
 * or a Unix socket (made 0600) only, unless `allowRemote: true` says otherwise; anyone else on
 * the machine who can reach the port still gets in: prefer a Unix socket in a 0700 directory.
 *
 * Each client gets its own `repl.start({ input, output })` over the socket's Duplex
 * (lib/io/duplex.ts). Node's REPL evaluates synchronously, on the hub's thread, inside the
 * Duplex's reader greenthread: a long expression blocks every greenthread until it returns.
 */
import * as net from 'node:net';
import type * as replNs from 'node:repl';
import * as fs from 'node:fs';
import { formatDump } from './hub/format-dump';
import type { AnyGreenThread } from './hub/greenthread';
import { getHub } from './hub/hub';
import type { AddressInfo } from './io/address';
import { serve } from './io/serve';
import { type GreenServer, listen } from './io/server';
import type { GreenSocket } from './io/socket';
import { blocking } from './operation';
import { Event } from './sync/event';
import { spawn } from './spawn';
import type { GreenThread } from './hub/greenthread';
import type { Green, Operation } from './types';
import { describeValue, validateBoolean, validateOptions } from './validate';

/**
 * Options of {@link backdoorServer} (and of {@link backdoor}, which adds where to listen).
 *
 * @example
 * ```ts
 * const opts: BackdoorServerOptions = { context: { cache, pool }, prompt: 'app> ' };
 * ```
 */
export interface BackdoorServerOptions {
  /** Names put in every client's REPL context, beside `dump` and `getHub`. */
  context?: Record<string, unknown>;
  /** The REPL's prompt (default `'greenhub> '`). */
  prompt?: string;
  /** Serve on a non-loopback address (anyone who reaches it runs code as you). Default false. */
  allowRemote?: boolean;
}

/**
 * Where {@link backdoor} listens: `{ path }` (a Unix socket, made 0600) or `{ port, host }`
 * (`host` a loopback IP literal, default `127.0.0.1`; port 0 picks one), and the REPL's options.
 *
 * @example
 * ```ts
 * const opts: BackdoorOptions = { path: '/run/myapp/backdoor.sock', context: { app } };
 * ```
 */
export interface BackdoorOptions extends BackdoorServerOptions {
  path?: string;
  port?: number;
  host?: string;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6'); // ::ffff:127.x.y.z is checked against the IPv4 rule

function isLoopback(address: string): boolean {
  const v = net.isIP(address);
  return v !== 0 && LOOPBACK.check(address, v === 6 ? 'ipv6' : 'ipv4');
}

function refuseRemote(address: string): never {
  throw new RangeError(
    `backdoor: ${address} is not a loopback address, and whoever reaches a backdoor runs any code as this process's user; ` +
      `listen on 127.0.0.1, ::1 or a Unix socket path, or pass allowRemote: true if you mean it, got ${describeValue(address)}`,
  );
}

interface Checked {
  context: Record<string, unknown>;
  prompt: string;
  allowRemote: boolean;
}

function checkServerOptions(o: BackdoorServerOptions): Checked {
  if (o.context !== undefined && (o.context === null || typeof o.context !== 'object' || Array.isArray(o.context))) {
    throw new TypeError(`context must be an object, got ${describeValue(o.context)}`);
  }
  if (o.prompt !== undefined && typeof o.prompt !== 'string') throw new TypeError(`prompt must be a string, got ${describeValue(o.prompt)}`);
  return { context: o.context ?? {}, prompt: o.prompt ?? 'greenhub> ', allowRemote: validateBoolean(o.allowRemote, 'allowRemote', false) };
}

/**
 * Serves a REPL to each connection on `server` until the server is closed (eventlet's
 * `backdoor_server`: run it in its own greenthread). Each client has its own REPL context
 * holding `dump()` (prints `formatDump()`: every greenthread, its state, what it waits on),
 * `getHub()` and the names of `context`; `.exit` or a disconnect ends that client's session
 * only. When it returns (the server closed) or is killed, every session it started ends and
 * its socket is closed.
 *
 * Node's REPL module is loaded on first use: it loads Node's `domain` module, which stays
 * for the life of the process, and runs each typed line inside the REPL's domain (an error
 * thrown later by code typed there is printed to that client, not raised in the process).
 *
 * @throws RangeError (at the call) when the server listens on a non-loopback address and
 *   `allowRemote` is not true.
 * @example
 * ```ts
 * import { backdoorServer, listen, spawn } from 'greenhub';
 * spawn(() => backdoorServer(listen({ port: 3000 }), { context: { app } })); // nc 127.0.0.1 3000
 * ```
 */
export function backdoorServer(server: GreenServer, options: BackdoorServerOptions = {}): Operation<void> {
  const o = checkServerOptions(validateOptions(options, 'backdoorServer options', ['context', 'prompt', 'allowRemote']));
  const addr = server.address();
  if (addr.family !== 'Unix' && !o.allowRemote && !isLoopback(addr.address)) refuseRemote(addr.address);
  return blocking(serveBackdoor(server, o), 'backdoorServer()');
}

function* serveBackdoor(server: GreenServer, o: Checked): Green<void> {
  const repl = require('node:repl') as typeof replNs; // lazily: see above (domain)
  const sessions = new Set<AnyGreenThread>();
  const hub = getHub();
  function* backdoorClient(sock: GreenSocket): Green<void> {
    const me = hub.current!;
    sessions.add(me);
    try {
      yield* session(repl, sock, o);
    } finally {
      sessions.delete(me);
    }
  }
  try {
    yield* serve(server, backdoorClient);
  } finally {
    for (const gt of [...sessions]) gt.kill();
  }
}

/** One client's REPL, until `.exit`, its disconnect, or a kill. */
function* session(repl: typeof replNs, sock: GreenSocket, o: Checked): Green<void> {
  const ended = new Event();
  const duplex = sock.toDuplex();
  // A client that resets, or output written after the end: its session ends, nothing else.
  duplex.on('error', () => {});
  duplex.write(`greenhub backdoor (pid ${process.pid}): dump() lists greenthreads, getHub() is the hub; ` +
    `code runs on the hub's thread, so a long expression blocks every greenthread\n`);
  const r = repl.start({ input: duplex, output: duplex, prompt: o.prompt, terminal: false, useColors: false, useGlobal: false, ignoreUndefined: true });
  Object.assign(r.context, {
    dump: (): void => {
      duplex.write(formatDump());
    },
    getHub,
    ...o.context,
  });
  r.on('exit', () => {
    if (!ended.ready()) ended.send();
  });
  try {
    yield* ended.wait();
  } finally {
    r.close();
    duplex.destroy(); // closes the socket
  }
}

/**
 * A running backdoor (what {@link backdoor} returns).
 *
 * @example
 * ```ts
 * const bd = backdoor({ port: 0 });
 * console.log(`nc 127.0.0.1 ${bd.address().port}`);
 * bd.close();
 * ```
 */
export class Backdoor {
  readonly #server: GreenServer;
  readonly #loop: GreenThread<void>;

  /** @internal use backdoor() */
  constructor(server: GreenServer, loop: GreenThread<void>) {
    this.#server = server;
    this.#loop = loop;
  }

  /** Where it listens: `{ address, family, port }` (for a Unix socket, the path and family 'Unix'). */
  address(): AddressInfo {
    return this.#server.address();
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#server.closed;
  }

  /**
   * Stops listening and ends every session: their REPLs close and their sockets are closed by
   * the time close() returns. A Unix socket's file is removed. Idempotent.
   */
  close(): void {
    this.#loop.kill();
    this.#server.close();
  }

  /** Makes its listening socket hold the process open (by default it does not). */
  ref(): this {
    this.#server.ref();
    return this;
  }

  /** The default: the backdoor alone does not keep the process alive. */
  unref(): this {
    this.#server.unref();
    return this;
  }
}

/**
 * Listens on a Unix socket path that only this user can connect to from the first moment: the
 * socket file is created under umask 0177 (0600), so no one else can connect between bind()
 * and a chmod. A worker thread cannot change the process's umask: there the file gets the
 * umask's mode until the chmod right after.
 */
function listenOwnerOnly(path: string): GreenServer {
  let old: number | undefined;
  try {
    old = process.umask(0o177);
  } catch {
    // ERR_WORKER_UNSUPPORTED_OPERATION in a worker thread
  }
  try {
    return listen({ path });
  } finally {
    if (old !== undefined) process.umask(old);
  }
}

/**
 * Listens on a Unix socket (`{ path }`, made 0600 so only this user can connect) or a loopback
 * TCP port (`{ port, host }`), and serves a REPL to each client in greenthreads of its own (see
 * {@link backdoorServer}). A plain call: it is listening when it returns; connect with
 * `nc 127.0.0.1 <port>`, `socat - UNIX-CONNECT:<path>` (or `rlwrap` either for line editing).
 * Its listening socket does not hold the process open (`ref()` makes it); a connected client
 * does, until it leaves.
 *
 * WARNING: a backdoor gives whoever connects full code execution as this process's user.
 * A non-loopback `host` is a RangeError unless `allowRemote: true`.
 *
 * @throws TypeError for bad options (neither or both of path and port…); RangeError for a
 *   non-loopback host; the system error of listen (`EADDRINUSE`…).
 * @example
 * ```ts
 * import { backdoor } from 'greenhub';
 * const bd = backdoor({ path: '/tmp/myapp.sock', context: { cache } });
 * // $ socat - UNIX-CONNECT:/tmp/myapp.sock
 * // greenhub> dump()
 * // greenhub: 3 live greenthreads …
 * bd.close();
 * ```
 */
export function backdoor(options: BackdoorOptions): Backdoor {
  const o = validateOptions(options, 'backdoor options', ['path', 'port', 'host', 'context', 'prompt', 'allowRemote']);
  if (options === undefined || (o.path === undefined) === (o.port === undefined)) {
    throw new TypeError(`backdoor needs either { path } (a Unix socket) or { port } (loopback TCP), got ${o.path !== undefined ? 'both' : 'neither'}`);
  }
  if (o.path !== undefined && o.host !== undefined) throw new TypeError('backdoor: host goes with port, not with path');
  const checked = checkServerOptions(o);
  const host = o.host ?? '127.0.0.1';
  if (o.path === undefined && typeof host === 'string' && net.isIP(host) !== 0 && !checked.allowRemote && !isLoopback(host)) refuseRemote(host);
  if (o.path !== undefined && o.path.startsWith('\0') && !checked.allowRemote) {
    // An abstract socket has no file permissions: every local user could connect to it.
    throw new RangeError(`backdoor: an abstract Unix socket (a path starting with \\0) has no permissions, so any local user could connect; use a file path, or pass allowRemote: true if you mean it, got ${describeValue(o.path)}`);
  }
  const server = o.path !== undefined ? listenOwnerOnly(o.path) : listen({ host, port: o.port });
  try {
    if (o.path !== undefined && !o.path.startsWith('\0')) fs.chmodSync(o.path, 0o600); // (again, for a worker thread: see listenOwnerOnly)
    server.unref();
    const loop = spawn({ name: 'backdoor' }, () => serveBackdoor(server, checked));
    return new Backdoor(server, loop);
  } catch (e) {
    server.close();
    throw e;
  }
}

