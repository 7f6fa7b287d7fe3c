// The native core (native/*.cc) and the hub's poller (lib/hub/poller.ts), on real fds.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { E, K, native } from '../lib/native';
import { systemError } from '../lib/errors';
import { HubPoller } from '../lib/hub/poller';
import { openFds } from './helpers/fds';
import { ROOT, closeAll, pipe, tcpPair, writeStr } from './helpers/raw';
import { node } from './helpers/green';

const ET = K.EPOLLIN | K.EPOLLOUT | K.EPOLLRDHUP | K.EPOLLET;

function drain(epfd: number, out = new Int32Array(3 * 64)): Array<[number, number, number]> {
  const n = native.epollWait(epfd, out, 0);
  expect(n).toBeGreaterThanOrEqual(0);
  const r: Array<[number, number, number]> = [];
  for (let i = 0; i < n; i++) r.push([out[3 * i], out[3 * i + 1], out[3 * i + 2] >>> 0]);
  return r;
}

describe('epoll, edge-triggered as the hub registers fds', () => {
  it('reports a written pipe once as readable, and nothing on a second drain', () => {
    const ep = native.epollCreate();
    const [r, w] = pipe();
    expect(native.epollCtl(ep, K.EPOLL_CTL_ADD, r, ET, 42)).toBe(0);
    expect(drain(ep)).toEqual([]);
    writeStr(w, 'hello');
    const evs = drain(ep);
    expect(evs).toHaveLength(1);
    expect(evs[0][0]).toBe(r);
    expect(evs[0][1]).toBe(42); // the token travels beside the fd
    expect(evs[0][2] & K.EPOLLIN).toBeTruthy();
    expect(drain(ep)).toEqual([]); // edge-triggered: no new data, no new event
    closeAll(r, w, ep);
  });

  it('reports EPOLLOUT on a connected socket and EPOLLRDHUP when the peer shuts down writing', () => {
    const ep = native.epollCreate();
    const [c, s] = tcpPair();
    expect(native.epollCtl(ep, K.EPOLL_CTL_ADD, c, ET, 1)).toBe(0);
    const first = drain(ep);
    expect(first).toHaveLength(1);
    expect(first[0][2] & K.EPOLLOUT).toBeTruthy();
    expect(first[0][2] & K.EPOLLRDHUP).toBeFalsy();
    expect(native.shutdown(s, K.SHUT_WR)).toBe(0);
    const second = drain(ep);
    expect(second).toHaveLength(1);
    expect(second[0][2] & K.EPOLLRDHUP).toBeTruthy();
    expect(second[0][2] & K.EPOLLIN).toBeTruthy();
    closeAll(c, s, ep);
  });

  it('modifies and removes a registration', () => {
    const ep = native.epollCreate();
    const [r, w] = pipe();
    expect(native.epollCtl(ep, K.EPOLL_CTL_ADD, w, K.EPOLLIN, 5)).toBe(0);
    expect(drain(ep)).toEqual([]); // a pipe's write end is never readable
    expect(native.epollCtl(ep, K.EPOLL_CTL_MOD, w, K.EPOLLOUT, 6)).toBe(0);
    const evs = drain(ep);
    expect(evs.map((e) => [e[0], e[1], e[2] & K.EPOLLOUT])).toEqual([[w, 6, K.EPOLLOUT]]);
    expect(native.epollCtl(ep, K.EPOLL_CTL_DEL, w, 0, 0)).toBe(0);
    expect(drain(ep)).toEqual([]);
    expect(native.epollCtl(ep, K.EPOLL_CTL_DEL, w, 0, 0)).toBe(E.ENOENT);
    expect(native.epollCtl(ep, K.EPOLL_CTL_ADD, 987_654, K.EPOLLIN, 0)).toBe(E.EBADF);
    closeAll(r, w, ep);
  });
});

describe('the hub poller', () => {
  it('drops an event drained for an fd whose number was reused in the same batch (generation check)', () => {
    const seen: Array<[number, number]> = [];
    let reused = -1;
    const extra: number[] = [];
    const [ar, aw] = pipe();
    const [br, bw] = pipe();
    const hub = new HubPoller((fd, events) => {
      seen.push([fd, events]);
      if (seen.length > 1) return;
      // First event of the batch: close the other pipe's read end and give its number to a
      // new fd (eventfds fill lower holes first), registered anew and readable at once.
      const victim = fd === ar ? br : ar;
      hub.deregister(victim, { removeFromKernel: false });
      native.close(victim);
      for (let i = 0; i < 1000; i++) {
        const e = native.eventfd(1);
        if (e === victim) {
          reused = e;
          break;
        }
        extra.push(e);
      }
      expect(reused).toBe(victim);
      hub.register(reused);
    });
    hub.register(ar);
    hub.register(br);
    writeStr(aw, 'a');
    writeStr(bw, 'b');
    expect(hub.drain()).toBe(2);
    // The batch held both pipes; the second entry's fd number now belongs to the eventfd,
    // under a new generation: the stale event did not reach it.
    expect(seen).toHaveLength(1);
    // The new registration does get its own event on the next drain.
    hub.drain();
    expect(seen.map((s) => s[0])).toEqual([seen[0][0], reused]);
    closeAll(ar === reused ? br : ar, aw, bw, reused, ...extra);
    hub.close();
  });

  it('refuses to register a regular file with a clear error', () => {
    const hub = new HubPoller(() => {});
    const fs = require('node:fs') as typeof import('node:fs');
    const fd = fs.openSync(__filename, 'r');
    expect(() => hub.register(fd)).toThrow(/cannot be polled/);
    fs.closeSync(fd);
    hub.close();
  });

  it('delivers 100 pipes written at once in very few JS calls, each fd once', async () => {
    const pipes = Array.from({ length: 100 }, () => pipe());
    const counts = new Map<number, number>();
    let batches = 0;
    const hub = new HubPoller((fd) => counts.set(fd, (counts.get(fd) ?? 0) + 1));
    for (const [r] of pipes) hub.register(r);
    hub.drain(); // nothing yet (pipes start empty)
    const done = new Promise<void>((resolve) => {
      hub.attach((n) => {
        hub.dispatch(n);
        batches++;
        if (counts.size === 100) resolve();
      }, () => {});
    });
    hub.setRef(true);
    for (const [, w] of pipes) writeStr(w, 'x');
    await done;
    expect(batches).toBeLessThanOrEqual(2);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(pipes.map((p) => p[0]).sort((a, b) => a - b));
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    hub.close();
    for (const [r, w] of pipes) closeAll(r, w);
  });

  it('fires the loop timer once, and only while armed', async () => {
    const hub = new HubPoller(() => {});
    let fired = 0;
    const done = new Promise<void>((resolve) => hub.attach(() => {}, () => {
      fired++;
      resolve();
    }));
    hub.armTimer(5, { ref: true, deadline: 1 });
    await done;
    hub.armTimer(10_000, { ref: false, deadline: 2 });
    hub.disarmTimer();
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(1);
    hub.close();
  });

  it('re-arms the loop timer for the same deadline only after it fired', async () => {
    const hub = new HubPoller(() => {});
    let fired = 0;
    let onFire = (): void => {};
    hub.attach(() => {}, () => {
      fired++;
      onFire();
    });
    const fire = (): Promise<void> => new Promise<void>((resolve) => (onFire = resolve));
    let first = fire();
    hub.armTimer(5, { ref: true, deadline: 7 });
    hub.armTimer(5_000, { ref: true, deadline: 7 }); // the same deadline: left as armed (5 ms)
    await first;
    first = fire();
    hub.armTimer(5, { ref: true, deadline: 7 }); // fired since: armed again
    await first;
    expect(fired).toBe(2);
    hub.disarmTimer();
    hub.close();
  });
});

describe('environments', () => {
  const workerSource = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { HubPoller } = require(workerData.root + '/dist/hub/poller.js');
    const { native } = require(workerData.root + '/dist/native.js');
    const fds = new Int32Array(2);
    native.pipe2(fds);
    let got = 0;
    const hub = new HubPoller((fd) => { if (fd === fds[0]) got++; });
    hub.register(fds[0]);
    hub.attach((n) => {
      hub.dispatch(n);
      if (got === 0) return;
      parentPort.postMessage({ epfd: hub.epfd, got });
      // Leave everything open: the environment's cleanup must close it.
      if (workerData.stay) setInterval(() => {}, 1000);
    }, () => {});
    hub.setRef(true);
    parentPort.on('message', () => {});
    const b = Buffer.from('x');
    native.write(fds[1], b, 0, 1);
  `;

  it('runs two pollers in two worker threads at once, and a worker that exits leaks no fd', async () => {
    const before = openFds().length;
    const workers = [0, 1].map(() => new Worker(workerSource, { eval: true, workerData: { root: ROOT, stay: true } }));
    const results = await Promise.all(
      workers.map((w) => new Promise<{ epfd: number; got: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      })),
    );
    expect(results.map((r) => r.got)).toEqual([1, 1]);
    expect(results[0].epfd).not.toBe(results[1].epfd);
    // Each worker holds an epoll fd, a pipe and an attachment; terminating it must close them.
    await Promise.all(workers.map((w) => w.terminate()));
    for (let i = 0; i < 100 && openFds().length > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds().length).toBe(before);
  });
});

describe('bad input never aborts the process', () => {
  it('throws TypeError/RangeError naming the argument', () => {
    const n = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => n.read('3', Buffer.alloc(1), 0, 1)).toThrow(TypeError);
    expect(() => n.read(1.5, Buffer.alloc(1), 0, 1)).toThrow(RangeError);
    expect(() => n.read(-1, Buffer.alloc(1), 0, 1)).toThrow(/fd must be a non-negative fd/);
    expect(() => n.read(0, 'abc', 0, 1)).toThrow(/buffer must be a Buffer/);
    expect(() => n.read(0, Buffer.alloc(4), 2, 3)).toThrow(RangeError);
    expect(() => n.epollCtl(0, K.EPOLL_CTL_ADD, 1, 'in', 0)).toThrow(/events must be an integer/);
    expect(() => n.epollWait(0, new Int32Array(2), 0)).toThrow(/at least one event/);
    expect(() => n.epollWait(0, new Int32Array(3), -5)).toThrow(RangeError);
    expect(() => n.epollWait(0, new Uint8Array(30), 0)).toThrow(/Int32Array/);
    expect(() => n.attach(0, new Int32Array(3), null, () => {})).toThrow(/onEvents must be a function/);
    expect(() => n.writev(1, 'x')).toThrow(/array of Buffers/);
    expect(() => n.writev(1, [Buffer.alloc(1), 7])).toThrow(/buffers\[1\]/);
    // A getter that throws must surface as that exception, not abort the process.
    const trap: unknown[] = [];
    Object.defineProperty(trap, 0, { get: () => { throw new Error('from getter'); } });
    expect(() => n.writev(1, trap)).toThrow('from getter');
    const from = {};
    Object.defineProperty(from, 'family', { set: () => { throw new Error('from setter'); } });
    const [r, w] = pipe();
    const u = native.socket(K.AF_INET, K.SOCK_DGRAM);
    native.bind(u, K.AF_INET, '127.0.0.1', 0);
    const port = (native.getsockname(u) as { port: number }).port;
    native.sendto(u, Buffer.from('x'), 0, 1, K.AF_INET, '127.0.0.1', port);
    expect(() => n.recvfrom(u, Buffer.alloc(4), 0, 4, from)).toThrow('from setter');
    closeAll(r, w, u);
  });

  it('returns -errno for a closed fd, and attach refuses an fd that is not an epoll instance', () => {
    const [r, w] = pipe();
    closeAll(r, w);
    expect(native.read(r, Buffer.alloc(1), 0, 1)).toBe(E.EBADF);
    expect(native.epollWait(r, new Int32Array(3), 0)).toBe(E.EBADF);
    expect(native.attach(r, new Int32Array(3), () => {}, () => {})).toBe(E.EBADF);
    const [r2, w2] = pipe();
    expect(native.attach(r2, new Int32Array(3), () => {}, () => {})).toBe(E.EINVAL);
    closeAll(r2, w2);
    const err = systemError(E.EBADF, 'read');
    expect(err).toMatchObject({ code: 'EBADF', errno: E.EBADF, syscall: 'read', message: 'read EBADF' });
  });

  it('survives every export called with junk arguments, in a child process', () => {
    const script = `
      const addon = require('node-gyp-build')(process.cwd());
      const junk = [undefined, null, -1, 1.5, 2 ** 40, NaN, 'x', {}, [], () => {}, new Int32Array(0),
                    Buffer.alloc(0), new Uint8Array(8), Symbol('s'), 10n, true];
      let calls = 0;
      for (const [name, fn] of Object.entries(addon)) {
        if (typeof fn !== 'function' || name === 'close' || name === 'own' || name === 'disown') continue;
        for (const a of junk) for (const b of junk) {
          try { fn(a, b, a, b, a, b, a); } catch (e) {
            if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
          }
          calls++;
        }
      }
      console.log('calls', calls);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/calls \d+/);
  });

  it('rethrows an exception from a batch callback to uncaughtException instead of losing it', () => {
    const script = `
      const { native } = require('./dist/native.js');
      const ep = native.epollCreate();
      const fds = new Int32Array(2); native.pipe2(fds);
      native.epollCtl(ep, 1, fds[0], 1, 0);
      process.on('uncaughtException', (e) => { console.log('caught:' + e.message); process.exit(0); });
      native.attach(ep, new Int32Array(30), () => { throw new Error('boom'); }, () => {});
      native.pollRef(ep, true);
      native.write(fds[1], Buffer.from('x'), 0, 1);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout.trim()).toBe('caught:boom');
    expect(r.status).toBe(0);
  });
});

describe('no SIGPIPE, even once the disposition is back to SIG_DFL', () => {
  // Adding and removing a 'SIGPIPE' listener resets the signal to SIG_DFL; a write that raised
  // it would then kill the child (status null, signal SIGPIPE). Each op runs in its own child.
  const child = (op: 'send' | 'sendv' | 'write' | 'writev') => `
    const { native, K, E } = require('./dist/native.js');
    const f = () => {}; process.on('SIGPIPE', f); process.off('SIGPIPE', f);
    const sigBits = (line) => BigInt('0x' + require('node:fs').readFileSync('/proc/self/status', 'utf8')
      .split('\\n').find((l) => l.startsWith(line + ':')).split(':')[1].trim());
    const PIPE = 1n << 12n; // SIGPIPE is 13
    const dfl = (sigBits('SigIgn') & PIPE) === 0n;
    const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const op = ${JSON.stringify(op)};
    const b = Buffer.from('hello');
    const results = [];
    if (op === 'send' || op === 'sendv') {
      const l = native.socket(K.AF_INET, K.SOCK_STREAM);
      native.bind(l, K.AF_INET, '127.0.0.1', 0); native.listen(l, 1);
      const c = native.socket(K.AF_INET, K.SOCK_STREAM);
      native.connect(c, K.AF_INET, '127.0.0.1', native.getsockname(l).port);
      let s = -11;
      for (let i = 0; i < 2000 && s === -11; i++) { s = native.accept4(l); if (s === -11) sleep(1); }
      native.close(l);
      native.close(s); // the peer goes: our next send gets a RST, the one after -EPIPE
      for (let i = 0; i < 200; i++) {
        const r = op === 'send' ? native.send(c, b, 0, b.length) : native.sendv(c, [b, b], 0, 1);
        results.push(r);
        if (r === E.EPIPE) break;
        sleep(1);
      }
      native.close(c);
    } else {
      const p = new Int32Array(2); native.pipe2(p);
      native.close(p[0]);
      for (let i = 0; i < 3; i++) results.push(op === 'write' ? native.write(p[1], b, 0, b.length) : native.writev(p[1], [b, b], 1, 2));
      native.close(p[1]);
    }
    // The mask is as it was, and no SIGPIPE is left pending.
    const clean = ((sigBits('SigBlk') | sigBits('SigPnd') | sigBits('ShdPnd')) & PIPE) === 0n;
    console.log(JSON.stringify({ dfl, clean, results, EPIPE: E.EPIPE, ECONNRESET: E.ECONNRESET }));
  `;

  for (const op of ['send', 'sendv', 'write', 'writev'] as const) {
    it(`${op} to a closed ${op.startsWith('send') ? 'TCP peer' : 'pipe reader'} returns -EPIPE and the process lives`, () => {
      const r = node(child(op));
      expect(r.signal).toBeNull();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout.trim()) as { dfl: boolean; clean: boolean; results: number[]; EPIPE: number; ECONNRESET: number };
      expect(out.dfl).toBe(true); // the precondition: SIGPIPE really was back to SIG_DFL
      expect(out.clean).toBe(true);
      expect(out.results.at(-1)).toBe(out.EPIPE);
      for (const x of out.results) if (x < 0) expect([out.EPIPE, out.ECONNRESET]).toContain(x);
      if (op === 'write' || op === 'writev') expect(out.results).toEqual([out.EPIPE, out.EPIPE, out.EPIPE]);
    });
  }

  it('send and sendv on a connected pair deliver the bytes; on a pipe they are -ENOTSOCK', () => {
    const [c, s] = tcpPair();
    const a = Buffer.from('abcdef');
    expect(native.send(c, a, 1, 2)).toBe(2);
    expect(native.sendv(c, [Buffer.from('xx'), Buffer.from('yz'), a], 1, 1)).toBe(1 + 6);
    expect(native.sendv(c, [a], 1)).toBe(0); // index at the end: nothing to send
    const got = Buffer.alloc(16);
    let n = 0;
    for (let i = 0; i < 2000 && n < 9; i++) {
      const r = native.read(s, got, n, got.length - n);
      if (r > 0) n += r;
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
    expect(got.subarray(0, n).toString()).toBe('bczabcdef');
    const [pr, pw] = pipe();
    expect(native.send(pw, a, 0, 1)).toBe(-os.constants.errno.ENOTSOCK);
    expect(native.sendv(pw, [a])).toBe(-os.constants.errno.ENOTSOCK);
    expect(() => native.send(c, a, 4, 3)).toThrow(RangeError);
    expect(() => native.sendv(c, [a], 2)).toThrow(/index 2 is past the end of buffers/);
    closeAll(c, s, pr, pw);
  });

  it('exports SO_PASSCRED and MSG_OOB', () => {
    expect(K.SO_PASSCRED).toBe(16);
    expect(K.MSG_OOB).toBe(1);
    const u = native.socket(K.AF_UNIX, K.SOCK_STREAM);
    expect(native.setsockopt(u, K.SOL_SOCKET, K.SO_PASSCRED, 1)).toBe(0);
    expect(native.getsockopt(u, K.SOL_SOCKET, K.SO_PASSCRED)).toBe(1);
    closeAll(u);
  });
});

describe('byte ranges beyond 2 GiB', () => {
  // Sparse: only the pages written or read are ever touched, so this costs a few KiB of RAM.
  const BIG = 2 ** 31 + 4096;

  it('writes and reads at offsets above 2^31, and checks the range as before', () => {
    const view = new Uint8Array(new ArrayBuffer(BIG));
    const view2 = new Uint8Array(new ArrayBuffer(BIG));
    expect(view.length).toBe(BIG);
    view.set(Buffer.from('hello'), 2 ** 31 + 100);
    const [r, w] = pipe();
    expect(native.write(w, view, 2 ** 31 + 100, 5)).toBe(5);
    expect(native.read(r, view2, 2 ** 31 + 10, 5)).toBe(5);
    expect(Buffer.from(view2.buffer, 2 ** 31 + 10, 5).toString()).toBe('hello');

    // writev/readv: an offset within one buffer above 2^31.
    expect(native.writev(w, [view], 0, 2 ** 31 + 100)).toBe(BIG - (2 ** 31 + 100));
    expect(native.readv(r, [view2], 0, 2 ** 31 + 1000)).toBe(BIG - (2 ** 31 + 1000));
    expect(Buffer.from(view2.buffer, 2 ** 31 + 1000, 5).toString()).toBe('hello');
    expect(native.readv(r, [new Uint8Array(4096)])).toBe(900); // the rest of the writev
    // A length above 2^31 is taken (the pipe takes what fits: a partial count).
    const n = native.write(w, view, 0, BIG);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2 ** 30);
    expect(native.read(r, view2, 0, BIG)).toBe(n);

    // Ranges that do not fit, and values that are not safe non-negative integers.
    expect(() => native.write(w, view, 2 ** 31 + 100, 4000)).toThrow(/offset 2147483748 and length 4000 do not fit in a buffer of 2147487744 bytes/);
    expect(() => native.read(r, view2, 2 ** 31 + 10, BIG)).toThrow(RangeError);
    expect(() => native.write(w, view, 2 ** 31 + 0.5, 5)).toThrow(/offset must be a non-negative integer .* got 2147483648.5/);
    expect(() => native.write(w, view, 0, NaN)).toThrow(/length must be .* got NaN/);
    expect(() => native.write(w, view, -1, 5)).toThrow(/got -1/);
    expect(() => native.write(w, view, 2 ** 53, 0)).toThrow(RangeError);
    expect(() => native.writev(w, [view], 0, BIG + 1)).toThrow(/offset 2147487745 is past the end of buffers\[0\]/);
    expect(() => native.writev(w, [view], 0.5)).toThrow(/index must be/);
    closeAll(r, w);
  });

  it('sendto and recvfrom take offsets above 2^31', () => {
    const view = new Uint8Array(new ArrayBuffer(BIG));
    const view2 = new Uint8Array(new ArrayBuffer(BIG));
    view.set(Buffer.from('dgram'), 2 ** 31 + 7);
    const a = native.socket(K.AF_INET, K.SOCK_DGRAM);
    const b = native.socket(K.AF_INET, K.SOCK_DGRAM);
    expect(native.bind(b, K.AF_INET, '127.0.0.1', 0)).toBe(0);
    const port = (native.getsockname(b) as { port: number }).port;
    expect(native.sendto(a, view, 2 ** 31 + 7, 5, K.AF_INET, '127.0.0.1', port)).toBe(5);
    const from = { family: 0, address: '', port: 0 };
    let got = -11;
    for (let i = 0; i < 2000 && got === -11; i++) {
      got = native.recvfrom(b, view2, 2 ** 31 + 3000, 100, from);
      if (got === -11) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
    expect(got).toBe(5);
    expect(Buffer.from(view2.buffer, 2 ** 31 + 3000, 5).toString()).toBe('dgram');
    expect(from.address).toBe('127.0.0.1');
    expect(() => native.recvfrom(b, view2, 2 ** 31 + 3000, 2000, from)).toThrow(RangeError);
    closeAll(a, b);
  });
});
