// Many idle connections held open on one hub (SOAK_IDLE, default 1,000; `make soak`: 10,000),
// clients in a second process spread over several 127.0.0.x addresses: memory per connection
// is reported, and every connection still echoes afterwards.
import { spawn as spawnProcess } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getHub, listen, serve, spawn } from '../../lib';
import type { Green, GreenSocket } from '../../lib';

const N = Number(process.env.SOAK_IDLE ?? 1000);

function* echo(sock: GreenSocket): Green<void> {
  const buf = Buffer.allocUnsafe(1024);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) return;
    yield* sock.sendAll(buf.subarray(0, n));
  }
}

describe(`${N} idle connections on one hub`, () => {
  it('holds them all, reports memory per connection, and every one still echoes', async () => {
    const server = listen({ port: 0, backlog: 4096 });
    const port = server.address().port;
    const loop = spawn(() => serve(server, echo, { concurrency: 1_000_000 }));
    global.gc?.();
    const before = process.memoryUsage();
    const child = spawnProcess(process.execPath, [path.join(__dirname, 'idle-clients.js'), String(port), String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.once('exit', r)); // listen now: it may exit before we look
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 1200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      return re.exec(out);
    };
    expect(await waitFor(/open (\d+)/)).not.toBeNull();
    for (let i = 0; i < 100 && getHub().stats().fdWaiters < N; i++) await new Promise((r) => setTimeout(r, 50));
    const held = getHub().stats().fdWaiters - 1; // minus the acceptor
    const after = process.memoryUsage();
    const perConn = { heapBytes: Math.round((after.heapUsed - before.heapUsed) / N), rssBytes: Math.round((after.rss - before.rss) / N) };
    console.log(`idle connections: ${held} held; per connection: ${JSON.stringify(perConn)}`);
    child.stdin.write('go\n');
    const echoed = await waitFor(/echoed (\d+)/);
    await exited;
    server.close();
    await loop;
    expect(held).toBe(N);
    expect(Number(echoed![1])).toBe(N);
  }, 180_000);
});
