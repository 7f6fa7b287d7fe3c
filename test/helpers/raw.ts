// Real fds made with the addon's own syscalls, for tests below the green I/O layer.
import * as path from 'node:path';
import { K, check, native } from '../../lib/native';

export const ROOT = path.resolve(__dirname, '../..');

/** Sleeps the thread (tests that must wait synchronously for the kernel). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Spins (sleeping 1 ms between tries) until fn returns a non-negative number or EAGAIN stops. */
export function retry(fn: () => number, what: string, tries = 2000): number {
  for (let i = 0; i < tries; i++) {
    const r = fn();
    if (r !== -11) return check(r, what);
    sleepSync(1);
  }
  throw new Error(`${what}: still EAGAIN after ${tries} tries`);
}

export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(native.pipe2(fds), 'pipe2');
  return [fds[0], fds[1]];
}

/** A connected TCP pair on 127.0.0.1: [client, server]; the listener is closed again. */
export function tcpPair(): [number, number] {
  const l = check(native.socket(K.AF_INET, K.SOCK_STREAM), 'socket');
  try {
    check(native.bind(l, K.AF_INET, '127.0.0.1', 0), 'bind');
    check(native.listen(l, 8), 'listen');
    const addr = native.getsockname(l);
    if (typeof addr === 'number') throw new Error('getsockname failed');
    const c = check(native.socket(K.AF_INET, K.SOCK_STREAM), 'socket');
    const r = native.connect(c, K.AF_INET, '127.0.0.1', addr.port);
    if (r !== 0 && r !== -115) check(r, 'connect');
    const s = retry(() => native.accept4(l), 'accept4');
    return [c, s];
  } finally {
    native.close(l);
  }
}

export function closeAll(...fds: number[]): void {
  for (const fd of fds) native.close(fd);
}

export function writeStr(fd: number, s: string): number {
  const b = Buffer.from(s);
  return check(native.write(fd, b, 0, b.length), 'write');
}
