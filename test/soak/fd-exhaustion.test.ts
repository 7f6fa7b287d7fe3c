// accept() under EMFILE: a server started with a low fd limit must back off on a timer (no new
// edge will come for connections already queued), keep serving the connections it has, accept
// again once fds are free, and say so once per episode, not per attempt.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

let server: ChildProcess | undefined;
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  server?.kill('SIGKILL');
});

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function echoOnce(s: net.Socket, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('(no answer)'), timeoutMs);
    s.once('data', (d) => {
      clearTimeout(timer);
      resolve(d.toString());
    });
    s.write(text);
  });
}

describe('fd exhaustion', () => {
  it('backs off without spinning, serves the connections it has, and accepts again when fds free up', async () => {
    const script = path.join(__dirname, 'emfile-server.js');
    server = spawn('sh', ['-c', `ulimit -n 64; exec "${process.execPath}" "${script}"`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /ready (\d+)/.exec(stdout);
        if (m) {
          clearInterval(t);
          resolve(Number(m[1]));
        }
      }, 10);
      server!.once('exit', (c) => reject(new Error(`server exited ${c}: ${stderr}`)));
    });

    // More clients than the server has fds: the kernel completes the handshakes (backlog).
    for (let i = 0; i < 70; i++) {
      sockets.push(await new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.on('error', () => {});
      }));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(stderr.match(/accept: E[MN]FILE/g) ?? []).toHaveLength(1); // once, not per attempt

    // No spinning: over one second of EMFILE, the server uses little CPU.
    const t0 = cpuTicks(server.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    const ticks = cpuTicks(server.pid!) - t0;
    expect(ticks).toBeLessThan(30); // < 0.3 s of CPU in 1 s (a spinning accept loop would use ~1 s)
    expect(stderr.match(/accept: E[MN]FILE/g) ?? []).toHaveLength(1);

    // The first client was accepted before the limit: it is still served.
    expect(await echoOnce(sockets[0], 'still served')).toBe('still served');
    // The last client waits in the backlog until fds free up.
    const last = sockets[sockets.length - 1];
    const lastAnswer = echoOnce(last, 'accepted at last', 10_000);
    for (const s of sockets.splice(0, 30)) s.destroy();
    expect(await lastAnswer).toBe('accepted at last');
    expect(server.exitCode).toBeNull(); // never died
  });
});
