// The runnable examples, started the way the README says, answering real requests.
import { type ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/raw';

const children: ChildProcess[] = [];
afterEach(() => {
  // tsx runs the program in a child of its own: kill the whole process group.
  for (const c of children.splice(0)) if (c.pid) process.kill(-c.pid, 'SIGKILL');
});

/** Starts `npx tsx <example>` (the README's command) with PORT=0 and resolves with the port it printed. */
function startExample(file: string): Promise<number> {
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
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
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
  it('answers the seed\'s "Hello, world!" to several clients', async () => {
    const port = await startExample('epoll-server.ts');
    const answers = await Promise.all([get(port), get(port, '/a'), get(port, '/b')]);
    for (const a of answers) expect(a).toEqual({ status: 200, body: 'Hello, world!' });
  });
});
