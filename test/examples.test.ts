// The runnable examples, started the way the README says, answering real requests.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/raw';

const children: ChildProcess[] = [];
afterEach(() => {
  // tsx runs the program in a child of its own: kill the whole process group.
  for (const c of children.splice(0)) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone (a test stopped it)
    }
  }
});

/** Starts `npx tsx <example>` (the README's command) with PORT=0 and resolves with the port it printed. */
function startExample(file: string, pattern = /listening on http:\/\/127\.0\.0\.1:(\d+)\//): Promise<number> {
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const child = spawn(tsx, [path.join(ROOT, 'examples', file)], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before listening: ${out}`)));
  });
}

function get(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('examples/epoll-server.ts', () => {
  it('answers the tutorial\'s "Hello, world!" to several clients, and stops on Ctrl-C (exit code 130)', async () => {
    const port = await startExample('epoll-server.ts');
    const answers = await Promise.all([get(port), get(port, '/a'), get(port, '/b')]);
    for (const a of answers) expect(a).toEqual({ status: 200, body: 'Hello, world!' });
    const child = children[children.length - 1];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGINT'); // as a terminal's Ctrl-C: the whole process group
    expect(await exited).toBe(130);
  });
});

describe('examples/hello-server.ts', () => {
  it('answers curl', async () => {
    const port = await startExample('hello-server.ts');
    const body = execFileSync('curl', ['-s', '--max-time', '10', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
    expect(body).toBe('Hello, world!');
  });

  it('serves 500 concurrent connections', async () => {
    const port = await startExample('hello-server.ts');
    // Open all 500 first, then send every request: the server must hold them all at once.
    const sockets = await Promise.all(
      Array.from({ length: 500 }, () => new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.on('error', reject);
      })),
    );
    const answers = await Promise.all(
      sockets.map((s) => new Promise<string>((resolve, reject) => {
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('end', () => resolve(text));
        s.on('error', reject);
        s.write('GET / HTTP/1.0\r\n\r\n');
      })),
    );
    expect(answers.filter((a) => a.startsWith('HTTP/1.0 200 OK') && a.endsWith('\r\n\r\nHello, world!'))).toHaveLength(500);
  });
});

describe('examples/echo-server.ts and echo-client.ts', () => {
  it('echo each word back', async () => {
    const port = await startExample('echo-server.ts', /echo server listening on 127\.0\.0\.1:(\d+)/);
    const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
    const out = execFileSync(tsx, [path.join(ROOT, 'examples/echo-client.ts'), 'hello', 'green world'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port) },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim().split('\n')).toEqual(['echo: hello', 'echo: green world']);
  });
});

describe('examples/http-adopt.ts', () => {
  it('answers the adopted route from a greenthread and the others as plain Node', async () => {
    const port = await startExample('http-adopt.ts');
    const curl = (args: string[], input?: Buffer): string =>
      execFileSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8', input });
    expect(curl(['-d', 'hello, green world', `http://127.0.0.1:${port}/upper`])).toBe('HELLO, GREEN WORLD');
    expect(await get(port, '/other')).toEqual({ status: 200, body: 'Hello, world!' });
    // A body past the route's maxBytes: 413.
    const big = Buffer.alloc(2 << 20, 'a');
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '--data-binary', '@-', `http://127.0.0.1:${port}/upper`], big)).toBe('413');
  });
});

describe('examples/heartbeat.ts', () => {
  it('beats while the cooperating loop runs, then exits 0 when main returns', () => {
    const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
    const out = execFileSync(tsx, [path.join(ROOT, 'examples/heartbeat.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    const lines = out.trim().split('\n');
    expect(lines[lines.length - 1]).toBe('periodic task done');
    // The loop runs for one second; a heartbeat every 100 ms got through (generous: >= 3).
    expect(lines.filter((l) => l.startsWith('heartbeat: ')).length).toBeGreaterThanOrEqual(3);
  });
});
