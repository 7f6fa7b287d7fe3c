// The native addon fuzzed from JS, in a child process: every export called thousands of times
// with random argument types and values. Only fds the fuzzer opened itself (or numbers that
// are surely not open) and only loopback addresses are ever passed. It must throw JS errors or
// return -errno — never crash, abort or leak an fd.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/green';

const FUZZER = `
const addon = require('node-gyp-build')(process.cwd());
const fs = require('node:fs');
const K = addon.constants;
let seed = Number(process.argv[1]) || 1;
const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4294967296; };
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const fdCount = () => fs.readdirSync('/proc/self/fd').length;

const own = new Set();
const keep = (r) => { if (typeof r === 'number' && r >= 0) own.add(r); return r; };
// Our own fds of every kind: pipes, sockets (bound to loopback), an eventfd, an epoll fd.
const p = new Int32Array(2); addon.pipe2(p); own.add(p[0]); own.add(p[1]);
keep(addon.eventfd(0)); keep(addon.epollCreate());
const tcp = keep(addon.socket(K.AF_INET, K.SOCK_STREAM)); addon.bind(tcp, K.AF_INET, '127.0.0.1', 0); addon.listen(tcp, 8);
const udp = keep(addon.socket(K.AF_INET, K.SOCK_DGRAM)); addon.bind(udp, K.AF_INET, '127.0.0.1', 0);
const before = fdCount() - own.size;

const badFds = [-1, -7, 2 ** 31 - 1, 99999, 1.5, NaN, Infinity];
const ints = () => pick([0, 1, -1, 7, 64, 4096, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 0.5, NaN, -0]);
const bufs = () => pick([Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(64), new Uint8Array(7), new Int32Array(3), new Int32Array(0), new Float64Array(2)]);
const strs = () => pick(['127.0.0.1', '::1', '127.0.0.2', '', 'not an address', '\\0abstract-greenhub-fuzz', '/tmp/greenhub-fuzz-' + process.pid + '.sock', 'x'.repeat(300)]);
function arg(i, name) {
  const r = rand();
  // fds: ours, or numbers that cannot be open; never a stranger's fd (stdin, Node's own).
  if (r < 0.35) return rand() < 0.75 && own.size ? pick([...own]) : pick(badFds);
  if (r < 0.5) return ints();
  if (r < 0.65) return bufs();
  if (r < 0.75) return strs();
  if (r < 0.8) return [bufs(), bufs()];
  if (r < 0.85) return pick([undefined, null, true, {}, () => {}, Symbol('s'), 10n]);
  return pick([K.AF_INET, K.AF_INET6, K.AF_UNIX, K.SOCK_STREAM, K.EPOLL_CTL_ADD, K.EPOLLIN, 0, 8]);
}

const skip = new Set(['constants', 'own', 'disown', 'attach', 'pollRef', 'timerStart', 'timerStop', 'detach']);
let calls = 0, thrown = 0, errnos = 0;
for (const [name, fn] of Object.entries(addon)) {
  if (typeof fn !== 'function' || skip.has(name)) continue;
  for (let k = 0; k < 1500; k++) {
    // Any integer could land in an fd position: one that names an fd the fuzzer does not own
    // (stdio, libuv's own pipes) becomes a number that is surely closed.
    const args = Array.from({ length: 7 }, (_, i) => arg(i, name)).map((a) =>
      typeof a === 'number' && Number.isInteger(a) && a >= 0 && a < 1e6 && !own.has(a) && fs.existsSync('/proc/self/fd/' + a) ? 99999 : a);
    // close only ever gets a bad number: closing our own fds would change the set under us.
    if (name === 'close') args[0] = pick(badFds);
    // epoll_wait must not block the fuzzer: a timeout of 0, or a bad one.
    if (name === 'epollWait') args[2] = pick([0, -5, 1.5, 'x', undefined]);
    try {
      const r = fn(...args);
      if (typeof r === 'number' && r < 0) errnos++;
      // Whatever the call created is ours now, and is closed at the end.
      if (['socket', 'accept4', 'eventfd', 'epollCreate', 'dup'].includes(name)) keep(r);
      if (name === 'socketpair' && r === 0 && args[1] instanceof Int32Array) { keep(args[1][0]); keep(args[1][1]); }
      if (name === 'pipe2' && r === 0 && args[0] instanceof Int32Array) { keep(args[0][0]); keep(args[0][1]); }
    } catch (e) {
      if (!(e instanceof TypeError || e instanceof RangeError)) throw new Error(name + ' threw ' + e);
      thrown++;
    }
    calls++;
  }
}
// attach/detach: only ever with our own epoll fd.
const ep = [...own].find((fd) => fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[eventpoll]');
for (let k = 0; k < 200; k++) {
  try { addon.attach(ep, bufs(), pick([() => {}, null]), () => {}); } catch (e) { if (!(e instanceof TypeError || e instanceof RangeError)) throw e; }
  try { addon.timerStart(ep, ints(), rand() < 0.5); } catch (e) { if (!(e instanceof TypeError || e instanceof RangeError)) throw e; }
  addon.detach(ep);
}
for (const fd of own) addon.close(fd);
try { fs.unlinkSync('/tmp/greenhub-fuzz-' + process.pid + '.sock'); } catch {}
console.log(JSON.stringify({ calls, thrown, errnos, leaked: fdCount() - before }));
`;

describe('native addon fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: thousands of random calls throw or return -errno, never crash, abort or leak`, () => {
      const r = spawnSync(process.execPath, ['-e', FUZZER, String(seed)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.signal).toBeNull();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout.trim()) as { calls: number; thrown: number; errnos: number; leaked: number };
      expect(out.calls).toBeGreaterThan(20_000);
      expect(out.thrown).toBeGreaterThan(0);
      expect(out.errnos).toBeGreaterThan(0);
      expect(out.leaked).toBe(0);
    });
  }
});
