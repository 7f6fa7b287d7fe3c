// serveHttp (lib/http/server.ts), driven by clients nobody here wrote: fetch (undici),
// node:http, curl, Python's http.client, and raw sockets for pipelining and the limits.
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getHub, HttpError, listen, serveHttp, sleep, spawn } from '../lib';
import type { GreenServer, HttpHandler, HttpServerOptions } from '../lib';
import { run } from './helpers/green';

interface Running {
  server: GreenServer;
  port: number;
  loop: Promise<void>;
  url: string;
}

let live: Running[] = [];

function start(handler: HttpHandler, options?: HttpServerOptions): Running {
  const server = listen({ host: '127.0.0.1', port: 0 });
  const port = server.address().port;
  const loop = Promise.resolve(spawn(() => serveHttp(server, handler, options)));
  const r = { server, port, loop, url: `http://127.0.0.1:${port}` };
  live.push(r);
  return r;
}

afterEach(async () => {
  for (const r of live) await run(function* () {
    yield* r.server.shutdown({ timeoutMs: 0 });
  });
  for (const r of live) await r.loop;
  live = [];
  getHub().onError(null);
});

const hello: HttpHandler = function* hello(req, res) {
  res.setHeader('Content-Type', 'text/plain');
  yield* res.end('Hello, world!');
};

/** Echoes method, url and body as JSON. */
const echo: HttpHandler = function* echo(req, res) {
  const body = yield* req.text();
  res.setHeader('Content-Type', 'application/json');
  yield* res.end(JSON.stringify({ method: req.method, url: req.url, path: req.path, body, headers: req.headers, trailers: req.trailers ?? null, version: req.httpVersion }));
};

function exec(cmd: string, args: string[], input?: string | Buffer): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 15_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * Sends bytes on a raw TCP connection and collects what comes back until the server closes
 * (or `waitMs` passes); `closed` says whether the server closed it.
 */
function raw(port: number, data: string | Buffer | Array<string | Buffer>, options: { waitMs?: number; gapMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    }, options.waitMs ?? 3000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => {
      if ((e as { code?: string }).code !== 'ECONNRESET') reject(e);
    });
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    });
    s.on('connect', async () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

describe('serveHttp with real clients', () => {
  it('answers fetch (undici) with keep-alive: one connection, Date and Content-Length as Node sets them', async () => {
    const ports = new Set<number>();
    const seen: string[] = [];
    const { url } = start(function* (req, res) {
      ports.add(req.remotePort!);
      seen.push(`${req.remoteAddress} ${req.method} ${req.path} ${req.query.get('i')} ${req.httpVersion} ${req.headers.host === req.header('Host')}`);
      if (req.method === 'POST') {
        const data = (yield* req.json()) as { n: number };
        yield* res.end(JSON.stringify({ n: data.n + 1 }));
      } else {
        yield* hello(req, res);
      }
    });
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${url}/x?i=${i}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-length')).toBe('13');
      expect(r.headers.get('content-type')).toBe('text/plain');
      expect(new Date(r.headers.get('date')!).getTime()).toBeGreaterThan(Date.now() - 5000);
      expect(await r.text()).toBe('Hello, world!');
    }
    const p = await fetch(url, { method: 'POST', body: JSON.stringify({ n: 41 }), headers: { 'content-type': 'application/json' } });
    expect(await p.json()).toEqual({ n: 42 });
    expect(seen[1]).toBe('127.0.0.1 GET /x 1 1.1 true');
    // Six requests on kept-alive connections: undici's pool alternates two (as with Node's http).
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('answers node:http with a keep-alive agent: chunked both ways, headers joined as Node joins them', async () => {
    const { port } = start(function* (req, res) {
      const body = yield* req.text();
      res.setHeader('X-Got', String(body.length));
      yield* res.write('a'.repeat(10));
      yield* res.write(Buffer.from('b'.repeat(20)));
      yield* res.end(JSON.stringify(req.headers));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ask = (): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
        new Promise((resolve, reject) => {
          const r = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/up', agent, headers: ['Host', `127.0.0.1:${port}`, 'X-Rep', '1', 'X-Rep', '2', 'Cookie', 'a=1', 'Cookie', 'b=2', 'Content-Type', 'text/plain', 'Content-Type', 'text/html'] }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          });
          r.on('error', reject);
          r.write('hello ');
          r.end('world'); // no Content-Length: node sends it chunked
        });
      for (let i = 0; i < 2; i++) {
        const { status, headers, body } = await ask();
        expect(status).toBe(200);
        expect(headers['transfer-encoding']).toBe('chunked');
        expect(headers.connection).toBe('keep-alive');
        expect(headers['x-got']).toBe('11');
        expect(body.slice(0, 30)).toBe('a'.repeat(10) + 'b'.repeat(20));
        const seen = JSON.parse(body.slice(30)) as Record<string, string>;
        expect(seen['x-rep']).toBe('1, 2');
        expect(seen.cookie).toBe('a=1; b=2');
        expect(seen['content-type']).toBe('text/plain');
        expect(seen['transfer-encoding']).toBe('chunked');
      }
    } finally {
      agent.destroy();
    }
  });

  it('answers curl: HTTP/1.0, HTTP/1.1 keep-alive over two URLs, chunked upload, Expect: 100-continue', async () => {
    const { url } = start(echo);
    const v10 = await exec('curl', ['-s', '-i', '--http1.0', `${url}/ten`]);
    expect(v10.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(v10.stdout).toMatch(/\r\nConnection: close\r\n/);
    expect(v10.stdout).toContain('"version":"1.0"');

    const two = await exec('curl', ['-s', '-v', `${url}/one`, `${url}/two`]);
    expect(two.stdout).toContain('"url":"/one"');
    expect(two.stdout).toContain('"url":"/two"');
    expect(two.stderr).toMatch(/Re-using existing connection/);

    const chunked = await exec('curl', ['-s', '-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${url}/up`], 'x'.repeat(100_000));
    const got = JSON.parse(chunked.stdout) as { body: string; headers: Record<string, string> };
    expect(got.body).toBe('x'.repeat(100_000));
    expect(got.headers['transfer-encoding']).toBe('chunked');

    const cont = await exec('curl', ['-s', '-v', '-H', 'Expect: 100-continue', '--data-binary', '@-', `${url}/cont`], 'y'.repeat(5000));
    expect(cont.stderr).toMatch(/HTTP\/1\.1 100 Continue/);
    expect((JSON.parse(cont.stdout) as { body: string }).body).toBe('y'.repeat(5000));
  });

  it("answers Python's http.client: GET, POST and HEAD on one connection", async () => {
    const { port } = start(echo);
    const script = [
      'import http.client, json',
      `c = http.client.HTTPConnection("127.0.0.1", ${port}, timeout=10)`,
      'c.request("GET", "/py?a=1"); r = c.getresponse(); print(r.status, json.loads(r.read())["path"])',
      'c.request("POST", "/py", body=b"hi there"); r = c.getresponse(); print(r.status, json.loads(r.read())["body"])',
      'c.request("HEAD", "/py"); r = c.getresponse(); print(r.status, repr(r.read()), r.getheader("content-length") is not None)',
      'c.request("GET", "/again"); r = c.getresponse(); print(r.status, json.loads(r.read())["url"])',
    ].join('\n');
    const { stdout } = await exec('/usr/bin/python3', ['-c', script]);
    expect(stdout.trim().split('\n')).toEqual(['200 /py', '200 hi there', "200 b'' True", '200 /again']);
  });
});

describe('serveHttp behaviour (raw sockets)', () => {
  it('answers pipelined requests in order', async () => {
    const { port } = start(function* (req, res) {
      if (req.path === '/slow') yield* sleep(30);
      yield* res.end(`<${req.path}>`);
    });
    const { text } = await raw(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect([...text.matchAll(/<([^>]*)>/g)].map((m) => m[1])).toEqual(['/slow', '/b', '/c', '/d']);
    expect(statuses(text)).toEqual([200, 200, 200, 200]);
  });

  it('sends no body to HEAD, none with 204, and a close-delimited body to an HTTP/1.0 client when streaming', async () => {
    const { port } = start(function* (req, res) {
      if (req.path === '/204') res.status(204);
      else if (req.path === '/stream') {
        yield* res.write('part1 ');
        yield* res.write('part2');
      } else yield* res.end('body!');
    });
    const head = await raw(port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head.text).toMatch(/Content-Length: 5\r\n/);
    expect(head.text.endsWith('\r\n\r\n')).toBe(true);
    const none = await raw(port, 'GET /204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(none.text).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(none.text).not.toMatch(/Content-Length|Transfer-Encoding/);
    const ten = await raw(port, 'GET /stream HTTP/1.0\r\n\r\n');
    expect(ten.closed).toBe(true);
    expect(ten.text).toMatch(/Connection: close\r\n/);
    expect(ten.text.endsWith('\r\n\r\npart1 part2')).toBe(true);
    const tenKa = await raw(port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n');
    expect(statuses(tenKa.text)).toEqual([200, 200]);
    expect(tenKa.text).toMatch(/Connection: keep-alive\r\n[^]*Connection: close\r\n/);
    expect(tenKa.closed).toBe(true);
  });

  it('turns a handler error before the head into a 500 reported to the hub, and closes after a later one', async () => {
    const seen: string[] = [];
    getHub().onError((e) => seen.push((e as Error).message));
    const { port } = start(function* (req, res) {
      if (req.path === '/early') throw new Error('early boom');
      yield* res.write('started');
      throw new Error('late boom');
    });
    const early = await raw(port, 'GET /early HTTP/1.1\r\nHost: x\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statuses(early.text)).toEqual([500]);
    expect(early.text).toMatch(/Connection: close\r\n/);
    expect(early.closed).toBe(true);
    const late = await raw(port, 'GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statuses(late.text)).toEqual([200]);
    expect(late.closed).toBe(true);
    expect(late.text).not.toMatch(/\r\n0\r\n\r\n$/); // cut, not ended
    expect(seen).toEqual(['early boom', 'late boom']);
  });

  it('answers an HttpError with its status, and does not report it', async () => {
    const seen: unknown[] = [];
    getHub().onError((e) => seen.push(e));
    const { port } = start(function* (req, res) {
      if (req.method !== 'POST') throw new HttpError(405, 'POST only');
      yield* res.end(JSON.stringify(yield* req.json()));
    });
    expect(statuses((await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).text)).toEqual([405]);
    expect(statuses((await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{x}')).text)).toEqual([400]);
    expect(seen).toEqual([]);
  });

  it('drains a small unread body before the next request, and closes on a large one', async () => {
    const { port } = start(function* (req, res) {
      yield* res.end(`<${req.path}>`);
    });
    const small = await raw(port, `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'z'.repeat(1000)}GET /b HTTP/1.1\r\nHost: x\r\n\r\n`, { waitMs: 500 });
    expect([...small.text.matchAll(/<([^>]*)>/g)].map((m) => m[1])).toEqual(['/a', '/b']);
    const chunked = await raw(port, 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 500 });
    expect([...chunked.text.matchAll(/<([^>]*)>/g)].map((m) => m[1])).toEqual(['/a', '/b']);
    const big = await raw(port, [`POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n`, 'z'.repeat(1000)], { waitMs: 2000 });
    expect(statuses(big.text)).toEqual([200]);
    expect(big.closed).toBe(true);
  });

  it('reads a body piece by piece with read(max), and readAll({ maxBytes }) throws 413 past its limit', async () => {
    const { port } = start(function* (req, res) {
      if (req.path === '/pieces') {
        const sizes: number[] = [];
        for (let b; (b = yield* req.read(4)).length > 0; ) sizes.push(b.length);
        yield* res.end(`${sizes.join(',')} ${req.complete}`);
      } else {
        yield* res.end(yield* req.readAll({ maxBytes: 5 }));
      }
    });
    const pieces = await raw(port, 'POST /pieces HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789');
    expect(pieces.text.endsWith('\r\n\r\n4,4,2 true')).toBe(true);
    const chunked = await raw(port, 'POST /pieces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nabcdef\r\n1\r\ng\r\n0\r\n\r\n');
    expect(chunked.text.endsWith('\r\n\r\n4,2,1 true')).toBe(true);
    const fits = await raw(port, 'POST /all HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    expect(fits.text.endsWith('\r\n\r\nhello')).toBe(true);
    const over = await raw(port, 'POST /all HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nhello!');
    expect(statuses(over.text)).toEqual([413]);
    expect(over.closed).toBe(true);
  });

  it('reads chunked bodies with trailers, and rejects a broken chunk with 400', async () => {
    const { port } = start(echo);
    const ok = await raw(port, 'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n');
    const body = JSON.parse(ok.text.slice(ok.text.indexOf('\r\n\r\n') + 4)) as { body: string; trailers: Record<string, string> };
    expect(body.body).toBe('hello world');
    expect(body.trailers).toEqual({ 'x-sum': 'abc' });
    const bad = await raw(port, 'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
    expect(statuses(bad.text)).toEqual([400]);
    expect(bad.closed).toBe(true);
  });

  it('answers a parse error with its status and Connection: close, then closes', async () => {
    const { port } = start(hello);
    const bad = await raw(port, 'GET / HTTP/1.1\r\nHost : x\r\n\r\n');
    expect(statuses(bad.text)).toEqual([400]);
    expect(bad.text).toMatch(/Connection: close\r\n/);
    expect(bad.closed).toBe(true);
    const smuggle = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(statuses(smuggle.text)).toEqual([400]);
    const version = await raw(port, 'GET / HTTP/2.0\r\nHost: x\r\n\r\n');
    expect(statuses(version.text)).toEqual([505]);
  });

  it('sends 100 Continue only when the handler reads the body', async () => {
    const { port } = start(function* (req, res) {
      if (req.path === '/read') yield* res.end(yield* req.text());
      else yield* res.end('no thanks');
    });
    const s = net.connect(port, '127.0.0.1');
    const got: string[] = [];
    s.on('data', (d) => got.push(d.toString()));
    await new Promise((r) => s.on('connect', r));
    s.write('POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.join('')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    s.write('body');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.join('')).toMatch(/200 OK[^]*\r\n\r\nbody$/);
    s.destroy();
    const skip = await raw(port, 'POST /skip HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    expect(skip.text).not.toMatch(/100 Continue/);
    expect(skip.text).toMatch(/Connection: close\r\n[^]*no thanks$/);
    expect(skip.closed).toBe(true);
  });

  it('hands an upgrade request and the raw socket to onUpgrade', async () => {
    const { port } = start(hello, {
      *onUpgrade(req, sock) {
        yield* sock.sendAll(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.header('upgrade')}\r\nConnection: Upgrade\r\n\r\n`));
        for (;;) {
          const line = yield* sock.readLine();
          if (line.length === 0) return;
          yield* sock.sendAll(Buffer.from(line.toString().toUpperCase()));
        }
      },
    });
    const r = await raw(port, ['GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly\n', 'later\n'], { waitMs: 300, gapMs: 50 });
    expect(r.text).toBe('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nEARLY\nLATER\n');
  });
});

describe('serveHttp limits', () => {
  it('maxHeaderBytes: a head past it (default 16 KiB) gets 431', async () => {
    const { port } = start(hello);
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(statuses(big.text)).toEqual([431]);
    expect(big.closed).toBe(true);
    const fits = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(15 * 1024)}\r\nConnection: close\r\n\r\n`);
    expect(statuses(fits.text)).toEqual([200]);
    const r2 = start(hello, { maxHeaderBytes: 1024 });
    expect(statuses((await raw(r2.port, `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(2000)}\r\n\r\n`)).text)).toEqual([431]);
  });

  it('maxHeaders: more header lines than it get 431', async () => {
    const { port } = start(hello, { maxHeaders: 10 });
    const lines = Array.from({ length: 10 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect(statuses((await raw(port, `GET / HTTP/1.1\r\nHost: x\r\n${lines}\r\n`)).text)).toEqual([431]);
    const fewer = Array.from({ length: 8 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect(statuses((await raw(port, `GET / HTTP/1.1\r\nHost: x\r\n${fewer}Connection: close\r\n\r\n`)).text)).toEqual([200]);
  });

  it('headersTimeoutMs: a slowloris head gets 408 and is closed', async () => {
    const { port } = start(hello, { headersTimeoutMs: 300 });
    const t0 = Date.now();
    const drip = Array.from({ length: 40 }, (_, i) => `X-${i}: y\r\n`);
    const r = await raw(port, ['GET / HTTP/1.1\r\n', ...drip], { gapMs: 50, waitMs: 3000 });
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1800); // the drip would take 2 s
  });

  it('requestTimeoutMs: a body dripped too slowly gets 408 and is closed', async () => {
    const { port } = start(echo, { requestTimeoutMs: 400 });
    const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', ...Array.from({ length: 40 }, () => 'ab')], { gapMs: 50, waitMs: 3000 });
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
  });

  it('keepAliveTimeoutMs: an idle keep-alive connection is closed, silently', async () => {
    const { port } = start(hello, { keepAliveTimeoutMs: 200 });
    const t0 = Date.now();
    const r = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 3000 });
    expect(statuses(r.text)).toEqual([200]);
    expect(r.text).toMatch(/Keep-Alive: timeout=1\r\n/);
    expect(r.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('maxBodyBytes: a larger Content-Length or chunked body gets 413', async () => {
    const { port } = start(echo, { maxBodyBytes: 1000 });
    const cl = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n');
    expect(statuses(cl.text)).toEqual([413]);
    expect(cl.closed).toBe(true);
    const chunk = (n: number): string => `${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`;
    const ch = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(600)}${chunk(600)}0\r\n\r\n`);
    expect(statuses(ch.text)).toEqual([413]);
    expect(ch.closed).toBe(true);
    const ok = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n${'o'.repeat(1000)}`);
    expect(statuses(ok.text)).toEqual([200]);
  });

  it('maxConnections: connections past it wait until one ends', async () => {
    const { port } = start(hello, { maxConnections: 1 });
    const first = net.connect(port, '127.0.0.1');
    await new Promise((r) => first.on('connect', r));
    first.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // served, then kept alive
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const second = raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { waitMs: 3000 });
    await new Promise((r) => setTimeout(r, 300));
    first.destroy(); // frees the slot
    const r = await second;
    expect(statuses(r.text)).toEqual([200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('graceful stop: closes idle keep-alive connections at once, lets in-flight requests finish', async () => {
    const { server, port } = start(function* (req, res) {
      if (req.path === '/slow') yield* sleep(300);
      yield* res.end(`<${req.path}>`);
    });
    const idle = raw(port, 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const busy = raw(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const stopped = run(function* () {
      yield* server.shutdown({ timeoutMs: 2000 });
    });
    const i = await idle;
    expect(Date.now() - t0).toBeLessThan(250); // at once, not after the 300 ms request or the 5 s keep-alive
    expect(i.closed).toBe(true);
    const b = await busy;
    expect(b.text).toMatch(/Connection: close\r\n[^]*<\/slow>$/);
    expect(b.closed).toBe(true);
    await stopped;
    expect(Date.now() - t0).toBeLessThan(1800); // well before the 2 s deadline
  });
});

describe('examples/http-server.ts', () => {
  it('answers curl: hello, and a POST echoed', async () => {
    const { spawn: spawnChild } = await import('node:child_process');
    const path = await import('node:path');
    const root = path.resolve(__dirname, '..');
    const child = spawnChild(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'examples/http-server.ts')], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect((await exec('curl', ['-s', '--max-time', '10', `http://127.0.0.1:${port}/`])).stdout).toBe('Hello, world!');
      expect((await exec('curl', ['-s', '--max-time', '10', '--data-binary', 'green threads', `http://127.0.0.1:${port}/echo`])).stdout).toBe('green threads');
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }
  });
});
