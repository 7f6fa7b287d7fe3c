/**
 * serveHttp(): eventlet.wsgi for Node — an HTTP/1.1 server, one greenthread per connection,
 * the handler a generator `function* (req, res)` written as plain blocking code.
 *
 * The hot path per request: one readUntil for the head, one parse, one sendAll for head and
 * body. Timeouts (headers, request, keep-alive idle) cost nothing per request: one checker
 * greenthread per serveHttp looks at every connection a few times per timeout (as Node's
 * connectionsCheckingInterval) and kills the ones past their deadline.
 */
import { Buffer } from 'node:buffer';
import { isGreenletExit } from '../errors';
import { getHub } from '../hub/hub';
import type { AnyGreenThread } from '../hub/greenthread';
import { serve } from '../io/serve';
import type { GreenServer } from '../io/server';
import type { GreenSocket } from '../io/socket';
import { blocking } from '../operation';
import { sleep } from '../sleep';
import { spawn } from '../spawn';
import type { Green, Operation } from '../types';
import { validateFunction, validateInt, validateMs, validateOptions } from '../validate';
import { HttpParseError, parseRequestHead, requestBodyFraming, type HeadLimits } from './parser';
import { type Conn, HttpError, HttpRequest, Phase } from './request';
import { HttpResponse } from './response';

// The global `performance` is a lazy getter on globalThis: looked up once, not per request.
const clock = performance;

/**
 * Options of {@link serveHttp}. Every limit has a Node-like default.
 *
 * @example
 * ```ts
 * yield* serveHttp(server, handler, { keepAliveTimeoutMs: 10_000, maxBodyBytes: 10 << 20 });
 * ```
 */
export interface HttpServerOptions {
  /** Most connections served at once (serve()'s concurrency; default 10000); accepting pauses at it. */
  maxConnections?: number;
  /** Largest request head, request line and headers (default 16 KiB, Node's); past it: 431. */
  maxHeaderBytes?: number;
  /** Most header lines in a head (default 2000, Node's maxHeadersCount); past it: 431. */
  maxHeaders?: number;
  /** Time to receive a whole request head (default 60 s, Node's); past it: 408 and close. */
  headersTimeoutMs?: number;
  /**
   * Time to receive a whole request, head and the body the handler reads (default 300 s,
   * Node's); past it: 408 (when the head is not sent yet) and close.
   */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long (default 5 s, Node's). */
  keepAliveTimeoutMs?: number;
  /**
   * Largest request body (default 1 MiB): a larger Content-Length is answered 413 before the
   * handler runs; a chunked body that grows past it throws HttpError 413 in the handler's read.
   */
  maxBodyBytes?: number;
  /**
   * Takes over connections that ask for a protocol upgrade (`Connection: upgrade` with an
   * `Upgrade` header, e.g. WebSocket) or send CONNECT: called with the request and the raw
   * GreenSocket (bytes the client sent after the head stay readable on it); it owns the
   * socket, which is closed when it returns. Without it, such requests go to the handler.
   */
  onUpgrade?: (req: HttpRequest, sock: GreenSocket) => Generator<unknown, unknown, unknown>;
}

/**
 * A serveHttp handler: a generator function that reads the request and writes the response.
 *
 * @example
 * ```ts
 * const hello: HttpHandler = function* (req, res) {
 *   res.setHeader('Content-Type', 'text/plain');
 *   yield* res.end('Hello, world!');
 * };
 * ```
 */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => Generator<unknown, unknown, unknown>;

const HEAD_END = Buffer.from('\r\n\r\n');
/** An unread request body up to this size is read and dropped to keep the connection; past it, close. */
const DRAIN_MAX = 256 * 1024;

/** Why the checker killed a connection. */
class ConnTimeout extends Error {
  constructor(readonly idle: boolean, message: string) {
    super(message);
    this.name = 'ConnTimeout';
  }
}

/**
 * Serves HTTP/1.1 on `server` for ever (an operation, like `serve()`): a greenthread per
 * connection runs `handler(req, res)` for each request on it, in order — keep-alive by
 * default, HTTP/1.0, `Connection: close`, pipelining, chunked bodies both ways,
 * `Expect: 100-continue` (100 Continue is sent when the handler first reads the body).
 * A malformed request gets its status (400, 431, 501, 505) with `Connection: close`; an error
 * the handler throws before the response head is sent becomes a 500 (an HttpError its own
 * status) and goes to the hub's error handler (not an HttpError); after the head, the
 * connection is closed. Limits: see HttpServerOptions.
 *
 * Graceful stop: `yield* server.shutdown({ timeoutMs })` — accepting stops at once, idle
 * keep-alive connections are closed at once, requests in flight finish (their responses say
 * `Connection: close`) until the deadline, then the rest are cut.
 *
 * @example
 * ```ts
 * import { listen, serveHttp, spawn } from 'greenhub';
 * const server = listen({ port: 8080 });
 * spawn(() => serveHttp(server, function* hello(req, res) {
 *   res.setHeader('Content-Type', 'text/plain');
 *   yield* res.end('Hello, world!');
 * }));
 * // later:
 * yield* server.shutdown({ timeoutMs: 5000 });
 * ```
 */
export function serveHttp(server: GreenServer, handler: HttpHandler, options: HttpServerOptions = {}): Operation<void> {
  validateFunction(handler, 'handler');
  validateOptions(options, 'serveHttp options', ['maxConnections', 'maxHeaderBytes', 'maxHeaders', 'headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'maxBodyBytes', 'onUpgrade']);
  const int = (v: number | undefined, name: string, def: number, min = 1): number => (v === undefined ? def : validateInt(v, name, min, 0x7fffffff));
  const ms = (v: number | undefined, name: string, def: number): number => (v === undefined ? def : validateMs(v, name));
  if (options.onUpgrade !== undefined) validateFunction(options.onUpgrade, 'onUpgrade');
  const s = new HttpServerState(server, handler, {
    maxHeaderBytes: int(options.maxHeaderBytes, 'maxHeaderBytes', 16 * 1024, 64),
    maxHeaders: int(options.maxHeaders, 'maxHeaders', 2000),
    headersTimeoutMs: ms(options.headersTimeoutMs, 'headersTimeoutMs', 60_000),
    requestTimeoutMs: ms(options.requestTimeoutMs, 'requestTimeoutMs', 300_000),
    keepAliveTimeoutMs: ms(options.keepAliveTimeoutMs, 'keepAliveTimeoutMs', 5_000),
    maxBodyBytes: options.maxBodyBytes === undefined ? 1024 * 1024 : validateInt(options.maxBodyBytes, 'maxBodyBytes', 0, Number.MAX_SAFE_INTEGER),
    onUpgrade: options.onUpgrade,
  });
  return blocking(s.run(int(options.maxConnections, 'maxConnections', 10_000)), 'serveHttp()');
}

interface Settings {
  maxHeaderBytes: number;
  maxHeaders: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxBodyBytes: number;
  onUpgrade: HttpServerOptions['onUpgrade'];
}

interface LiveConn extends Conn {
  gt: AnyGreenThread;
  req: HttpRequest | undefined;
  res: HttpResponse | undefined;
}

class HttpServerState {
  readonly conns = new Set<LiveConn>();
  readonly limits: HeadLimits;
  readonly readOpts: { maxBytes: number };
  readonly keepAliveLine: string;
  closing = false;
  checker: AnyGreenThread | undefined;

  constructor(readonly server: GreenServer, readonly handler: HttpHandler, readonly o: Settings) {
    this.limits = { maxHeaderBytes: o.maxHeaderBytes, maxHeaders: o.maxHeaders };
    this.readOpts = { maxBytes: o.maxHeaderBytes };
    this.keepAliveLine = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.max(1, Math.floor(o.keepAliveTimeoutMs / 1000))}\r\n`;
  }

  *run(concurrency: number): Green<void> {
    this.server.onClose(() => {
      this.closing = true;
      this.closeIdle();
    });
    // The connection generator itself is the handler's body: no wrapper level to resume through.
    const http = (sock: GreenSocket): Green<void> => this.connection(sock);
    yield* serve(this.server, http, { concurrency });
  }

  /** Kills keep-alive connections that wait for a next request and have no byte of it yet. */
  closeIdle(): void {
    for (const c of this.conns) {
      if (c.phase === Phase.Head && !c.timedOut && c.sock.bytesRead === c.rxAt) {
        c.timedOut = true;
        c.gt.kill(new ConnTimeout(true, 'server closing'));
      }
    }
  }

  /** The timeout checker runs while there are connections. */
  #startChecker(): void {
    if (this.checker !== undefined) return;
    const o = this.o;
    const shortest = Math.min(...[o.headersTimeoutMs, o.requestTimeoutMs, o.keepAliveTimeoutMs].filter((x) => x > 0));
    if (!Number.isFinite(shortest)) return;
    const interval = Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
    this.checker = spawn({ name: 'serveHttp timeouts' }, function* (this: void, state: HttpServerState) {
      try {
        while (state.conns.size > 0) {
          yield* sleep(interval);
          state.check();
        }
      } finally {
        state.checker = undefined;
      }
    }, this);
  }

  check(): void {
    const now = clock.now();
    const o = this.o;
    for (const c of this.conns) {
      if (c.timedOut) continue;
      const elapsed = now - c.since;
      if (c.phase === Phase.Head) {
        const idle = c.sock.bytesRead === c.rxAt;
        if (idle && (this.closing || (c.served > 0 && o.keepAliveTimeoutMs > 0 && elapsed >= o.keepAliveTimeoutMs))) {
          c.timedOut = true;
          c.gt.kill(new ConnTimeout(true, 'keep-alive timeout'));
        } else if ((o.headersTimeoutMs > 0 && elapsed >= o.headersTimeoutMs) || (o.requestTimeoutMs > 0 && elapsed >= o.requestTimeoutMs)) {
          c.timedOut = true;
          c.gt.kill(new ConnTimeout(idle && c.served > 0, 'headers timeout'));
        }
      } else if (c.phase === Phase.Body && o.requestTimeoutMs > 0 && elapsed >= o.requestTimeoutMs) {
        c.timedOut = true;
        c.gt.kill(new ConnTimeout(false, 'request timeout'));
      }
    }
  }

  *connection(sock: GreenSocket): Green<void> {
    const o = this.o;
    const conn: LiveConn = {
      sock,
      gt: getHub().current!,
      phase: Phase.Head,
      since: clock.now(),
      rxAt: sock.bytesRead,
      served: 0,
      timedOut: false,
      headSent: false,
      expectPending: false,
      owner: this,
      limits: this.limits,
      maxBodyBytes: o.maxBodyBytes,
      keepAliveLine: this.keepAliveLine,
      req: undefined,
      res: undefined,
    };
    this.conns.add(conn);
    this.#startChecker();
    try {
      for (;;) {
        let head: Buffer;
        try {
          head = yield* sock.readUntil(HEAD_END, this.readOpts);
          // Empty lines before a request line are ignored (RFC 9112 2.2).
          while (head.length === 4 && head[0] === 13 && head[1] === 10) head = yield* sock.readUntil(HEAD_END, this.readOpts);
        } catch (e) {
          if (e instanceof ConnTimeout) {
            if (!e.idle) yield* rawError(sock, 408);
            return;
          }
          if ((e as { code?: unknown }).code === 'ERR_LINE_TOO_LONG') return yield* rawError(sock, 431);
          throw e;
        }
        if (head.length < 4 || head[head.length - 1] !== 10 || head[head.length - 4] !== 13) return; // end of stream
        const status = this.prepare(conn, head);
        if (status > 0) return yield* rawError(sock, status);
        if (status < 0) {
          yield* this.o.onUpgrade!(conn.req!, sock);
          return;
        }
        const res = conn.res!;
        const req = conn.req!;
        conn.res = conn.req = undefined;
        if (!(yield* this.respond(conn, req, res))) return;
        conn.served++;
        if (this.closing) return;
        conn.phase = Phase.Head;
        conn.since = clock.now();
        conn.rxAt = sock.bytesRead;
        conn.headSent = false;
        conn.expectPending = false;
      }
    } finally {
      this.conns.delete(conn);
    }
  }

  /**
   * Parses a request head into the request and its response (left in conn.req / conn.res);
   * returns 0, or the status of an error answer to send before closing, or -1 for an upgrade.
   */
  prepare(conn: LiveConn, head: Buffer): number {
    let h, f;
    try {
      h = parseRequestHead(head, this.limits);
      f = requestBodyFraming(h);
    } catch (e) {
      if (e instanceof HttpParseError) return e.status;
      throw e;
    }
    const framing = f.kind === 'none' ? 0 : f.kind === 'length' ? 1 : 2;
    const length = f.kind === 'length' ? f.length : 0;
    if (length > this.o.maxBodyBytes) return 413;
    let expect = false;
    let keepAlive = h.version === '1.1';
    let upgrade = false;
    const headers = h.headers;
    for (let i = 0; i < headers.length; i++) {
      const name = headers[i][0];
      if (name === 'connection') {
        const v = headers[i][1].toLowerCase();
        if (v.includes('close')) keepAlive = false;
        else if (v.includes('keep-alive') && h.version === '1.0') keepAlive = true;
        if (v.includes('upgrade')) upgrade = true;
      } else if (name === 'expect') {
        if (headers[i][1].toLowerCase() !== '100-continue') return 417;
        expect = h.version === '1.1';
      }
    }
    const req = new HttpRequest(conn, h.method, h.target, h.version, headers, framing, length, expect);
    conn.req = req;
    conn.phase = Phase.Handler;
    if (this.o.onUpgrade !== undefined && (h.method === 'CONNECT' || (upgrade && req.header('upgrade') !== undefined))) return -1;
    if (this.closing) keepAlive = false;
    conn.res = new HttpResponse(conn, h.method === 'HEAD', h.version === '1.0', keepAlive);
    return 0;
  }

  *respond(conn: LiveConn, req: HttpRequest, res: HttpResponse): Green<boolean> {
    try {
      const it = this.handler(req, res);
      if (it !== undefined && it !== null && typeof (it as Iterator<unknown>).next === 'function') yield* it as unknown as Green<unknown>;
      if (!res.finished) yield* res.endOp(undefined);
    } catch (e) {
      if (isGreenletExit(e)) throw e;
      const timeout = e instanceof ConnTimeout;
      const status = timeout ? 408 : e instanceof HttpError || e instanceof HttpParseError ? e.status : 500;
      if (!res.headersSent) {
        try {
          yield* res.sendError(status);
        } catch {
          // the peer is gone: nothing to tell it
        }
      }
      if (timeout || e instanceof HttpError || e instanceof HttpParseError) return false;
      throw e; // serve() reports it (unless it is the peer's doing) and closes the socket
    }
    if (!res.keepAlive || conn.timedOut) return false;
    // The body the handler left unread: drop a small one, else close.
    const left = req.unreadLength;
    if (left === 0) return true;
    if (req.continuePending || left > DRAIN_MAX) return false;
    try {
      let n = 0;
      for (;;) {
        const b = yield* req.readOp(64 * 1024);
        if (b.length === 0) return true;
        if ((n += b.length) > DRAIN_MAX) return false;
      }
    } catch (e) {
      if (e instanceof HttpError || e instanceof HttpParseError || e instanceof ConnTimeout) return false;
      throw e;
    }
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** An error answer before any request object exists, then the caller closes. */
function* rawError(sock: GreenSocket, status: number): Green<void> {
  const reason = REASONS[status] ?? 'Error';
  try {
    yield* sock.sendAll(Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
  } catch {
    // the peer is gone
  }
}
