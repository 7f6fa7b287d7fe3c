// Small helpers for tests that run greenthreads.
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GreenletExit, spawn } from '../../lib';
import type { Green, GreenThread } from '../../lib';

export const ROOT = path.resolve(__dirname, '../..');

/** Runs body in a greenthread and resolves with its result (or rejects with its error). */
export function run<T>(body: () => Green<T>): Promise<T> {
  return Promise.resolve(spawn(body));
}

/** Busy-waits ms on the CPU (a hog). */
export function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

/** Runs a script with `node -e` in the project root (dist/ is built by make). */
export function node(script: string, timeoutMs = 20_000): { status: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** What f throws, as "Name: message", or 'no error'. */
export function thrown(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** What running op throws (the error itself), or 'no error'. */
export function* catching(op: { [Symbol.iterator](): Iterator<unknown, unknown, unknown> }): Green<unknown> {
  try {
    yield* op;
    return 'no error';
  } catch (e) {
    return e;
  }
}

/** Waits for gt to end; whether it ended killed (GreenletExit). */
export function* endedKilled<T>(gt: GreenThread<T>): Green<boolean> {
  try {
    yield* gt.wait();
    return false;
  } catch (e) {
    return e instanceof GreenletExit;
  }
}
