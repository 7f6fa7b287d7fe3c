// The public low-level Poller (lib/io/poller.ts).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Poller } from '../lib';
import { ROOT, closeAll, pipe, writeStr } from './helpers/raw';

function runChild(script: string): { status: number | null; stdout: string; stderr: string; signal: string | null } {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('Poller', () => {
  it('is level-triggered by default: an unread pipe is reported on every wait', () => {
    const p = new Poller();
    const [r, w] = pipe();
    p.add(r, Poller.EPOLLIN);
    expect(p.wait(0)).toEqual([]);
    writeStr(w, 'x');
    expect(p.wait(0)).toEqual([{ fd: r, events: Poller.EPOLLIN }]);
    expect(p.wait(0)).toEqual([{ fd: r, events: Poller.EPOLLIN }]);
    p.close();
    closeAll(r, w);
  });

  it('is edge-triggered when the caller passes EPOLLET', () => {
    const p = new Poller();
    const [r, w] = pipe();
    p.add(r, Poller.EPOLLIN | Poller.EPOLLET);
    writeStr(w, 'x');
    expect(p.wait(0)).toHaveLength(1);
    expect(p.wait(0)).toEqual([]);
    p.close();
    closeAll(r, w);
  });

  it('modifies and removes registrations, and reports errors as system errors', () => {
    const p = new Poller();
    const [r, w] = pipe();
    p.add(w, Poller.EPOLLIN);
    expect(p.size).toBe(1);
    expect(p.wait(0)).toEqual([]);
    p.modify(w, Poller.EPOLLOUT);
    expect(p.wait(0)).toEqual([{ fd: w, events: Poller.EPOLLOUT }]);
    expect(() => p.add(w, Poller.EPOLLIN)).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'epoll_ctl' }));
    p.remove(w);
    expect(p.size).toBe(0);
    expect(p.wait(0)).toEqual([]);
    expect(() => p.remove(w)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => p.modify(r, Poller.EPOLLIN)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    p.close();
    closeAll(r, w);
  });

  it('waits up to timeoutMs for an fd that another thread makes ready', () => {
    const p = new Poller();
    const [r, w] = pipe();
    p.add(r, Poller.EPOLLIN);
    // A timeout with nothing ready returns an empty list.
    expect(p.wait(5)).toEqual([]);
    writeStr(w, 'x');
    expect(p.wait(10_000)).toEqual([{ fd: r, events: Poller.EPOLLIN }]);
    p.close();
    closeAll(r, w);
  });

  it('delivers events in callback mode on Node\'s loop, in batches, until stopped', async () => {
    const p = new Poller();
    const pipes = [pipe(), pipe(), pipe()];
    for (const [r] of pipes) p.add(r, Poller.EPOLLIN | Poller.EPOLLET);
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      p.start((fd, events) => {
        expect(events & Poller.EPOLLIN).toBeTruthy();
        seen.push(fd);
        if (seen.length === 3) resolve();
      });
    });
    for (const [, w] of pipes) writeStr(w, 'x');
    await done;
    expect(seen.sort()).toEqual(pipes.map((x) => x[0]).sort());
    p.stop();
    writeStr(pipes[0][1], 'y');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(3);
    p.close();
    for (const [r, w] of pipes) closeAll(r, w);
  });

  it('rejects bad input with TypeError/RangeError, and any use after close', () => {
    const p = new Poller();
    expect(() => p.add('3' as unknown as number, Poller.EPOLLIN)).toThrow(TypeError);
    expect(() => p.add(-1, Poller.EPOLLIN)).toThrow(RangeError);
    expect(() => p.add(1.5, Poller.EPOLLIN)).toThrow(RangeError);
    expect(() => p.add(0, 'in' as unknown as number)).toThrow(/events must be an integer/);
    expect(() => p.add(987_654, Poller.EPOLLIN)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => p.wait(-1)).toThrow(RangeError);
    expect(() => p.wait(Number.NaN)).toThrow(TypeError);
    expect(() => p.start(null as unknown as () => void)).toThrow(/callback must be a function/);
    expect(() => new Poller({ maxEvents: 0 })).toThrow(RangeError);
    p.close();
    p.close(); // idempotent
    expect(p.closed).toBe(true);
    expect(() => p.wait(0)).toThrow(expect.objectContaining({ code: 'ERR_POLLER_CLOSED' }));
  });
});

describe('Poller keep-alive (child processes)', () => {
  const prelude = `
    const { Poller } = require('./dist/index.js');
    const { native } = require('./dist/native.js');
    const fds = new Int32Array(2); native.pipe2(fds);
  `;

  it('exits by itself in callback mode with no fd registered', () => {
    const r = runChild(`${prelude} new Poller().start(() => {}); console.log('started');`);
    expect(r.stdout.trim()).toBe('started');
    expect(r.status).toBe(0);
  });

  it('stays alive while an fd is registered, and exits once it is removed', () => {
    // The unref'd timer can only fire if something else holds the process open: the poller.
    const r = runChild(`${prelude}
      const p = new Poller().start(() => {});
      p.add(fds[0], Poller.EPOLLIN);
      setTimeout(() => { console.log('still alive'); p.remove(fds[0]); }, 100).unref();
    `);
    expect(r.stdout.trim()).toBe('still alive');
    expect(r.status).toBe(0);
  });

  it('does not hold the process once unref()\'d', () => {
    const r = runChild(`${prelude}
      const p = new Poller().start(() => {});
      p.add(fds[0], Poller.EPOLLIN);
      p.unref();
      setTimeout(() => { console.log('held open'); }, 200).unref();
      console.log('end of script');
    `);
    expect(r.stdout.trim()).toBe('end of script');
    expect(r.status).toBe(0);
  });

  it('passes an exception thrown by the callback to uncaughtException', () => {
    const r = runChild(`${prelude}
      process.on('uncaughtException', (e) => { console.log('caught ' + e.message); process.exit(0); });
      new Poller().start(() => { throw new Error('from callback'); }).add(fds[0], Poller.EPOLLIN);
      native.write(fds[1], Buffer.from('x'), 0, 1);
    `);
    expect(r.stdout.trim()).toBe('caught from callback');
  });
  it('delivers every event of a batch when a callback throws, then reports the first error', () => {
    // Edge-triggered: an event dropped after the throw would never come again.
    const r = runChild(`${prelude}
      const more = new Int32Array(2); native.pipe2(more);
      const seen = [];
      process.on('uncaughtException', (e) => {
        setTimeout(() => { console.log(JSON.stringify({ seen: seen.length, error: e.message })); process.exit(0); }, 50);
      });
      const p = new Poller().start((fd) => { seen.push(fd); if (seen.length === 1) throw new Error('first callback'); });
      p.add(fds[0], Poller.EPOLLIN | Poller.EPOLLET);
      p.add(more[0], Poller.EPOLLIN | Poller.EPOLLET);
      native.write(fds[1], Buffer.from('x'), 0, 1);
      native.write(more[1], Buffer.from('y'), 0, 1);
    `);
    expect(JSON.parse(r.stdout.trim())).toEqual({ seen: 2, error: 'first callback' });
  });
});
