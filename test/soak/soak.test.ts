// The soak: a greenhub echo server under many concurrent clients from a second process, a
// share of them hostile (resets, half-closes, stalls, silent connections). Short in `make
// test`; `make soak` runs it long (SOAK_SECONDS, SOAK_CLIENTS).
import { spawn as spawnProcess } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listen, serve, spawn } from '../../lib';
import type { Green, GreenSocket } from '../../lib';
import { openFds } from '../helpers/fds';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 5);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 200);

function* echo(sock: GreenSocket): Green<void> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = yield* sock.recvInto(buf);
    if (n === 0) return;
    yield* sock.sendAll(buf.subarray(0, n));
  }
}

describe(`soak: ${CLIENTS} clients for ${SECONDS} s`, () => {
  it('loses and reorders nothing, leaks no fd, and keeps healthy clients served', async () => {
    const fdsBefore = openFds().length;
    const server = listen({ port: 0, backlog: 4096 });
    const port = server.address().port;
    const loop = spawn(() => serve(server, echo, { concurrency: 100_000 }));
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 200);

    const figures = await new Promise<Record<string, number>>((resolve, reject) => {
      const child = spawnProcess(process.execPath, [path.join(__dirname, 'clients.js'), String(port), String(CLIENTS), String(SECONDS)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`clients exited with ${code}: ${out}`))));
    });
    clearInterval(sampler);
    server.close();
    await loop;
    // Handlers of connections the clients closed finish within a few turns.
    for (let i = 0; i < 100 && openFds().length > fdsBefore; i++) await new Promise((r) => setTimeout(r, 20));
    const fdsAfter = openFds().length;
    const report = {
      clients: CLIENTS,
      seconds: SECONDS,
      connectionsServed: figures.served + figures.resets + figures.halfCloses + figures.stalls + figures.idles,
      bytesEchoed: figures.bytesEchoed,
      bytesLostOrReordered: figures.bytesLost + figures.mismatches,
      serverFdsBefore: fdsBefore,
      serverFdsAfter: fdsAfter,
      peakRssMiB: +(peakRss / 2 ** 20).toFixed(1),
      longestHealthyWaitMs: figures.maxWaitMs,
      ...figures,
    };
    console.log(`soak figures: ${JSON.stringify(report)}`);
    expect(report.bytesLostOrReordered).toBe(0);
    expect(figures.healthyErrors).toBe(0);
    expect(fdsAfter).toBe(fdsBefore);
    expect(figures.exchanges).toBeGreaterThan(CLIENTS);
    expect(figures.resets + figures.halfCloses + figures.stalls + figures.idles).toBeGreaterThan(0);
  }, (SECONDS + 60) * 1000);
});
