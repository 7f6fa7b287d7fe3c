// Issue 15, item 7: main(fn), the program's root greenthread (effection's main). Exit codes 0 /
// 1 / 130 / 143; SIGINT and SIGTERM kill the root (its finally blocks run) within a grace
// period; a second signal or the end of the grace period exits at once; when the root ends the
// rest are shut down and the signal listeners go. Child processes: exit codes and signals are
// the point. A signal is sent only once the child has printed 'ready'.
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { main, spawn } from '../lib';
import { ROOT, node } from './helpers/green';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts `node -e script` in the project root; `lines` resolves each time stdout has a line equal to one awaited. */
function start(script: string): { child: ChildProcess; line: (text: string) => Promise<void>; done: Promise<Outcome> } {
  const child = spawnChild(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const check = (): void => {
    const lines = stdout.split('\n');
    for (const w of waiters.splice(0)) {
      if (lines.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Outcome>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const line = (text: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ text, resolve });
      check();
      void done.then(() => reject(new Error(`child ended before printing "${text}": ${stdout} ${stderr}`)));
    });
  return { child, line, done };
}

/** A program whose root prints 'ready', then sleeps; its finally blocks log, one of them after a wait. */
const PROGRAM = (options = '{}', finallyBody = 'yield* sleep(20); console.log("cleanup done");') => `
  const { main, sleep, spawn } = require('./dist');
  main(function* app() {
    spawn(function* other() { try { yield* sleep(1e9); } finally { console.log('other finally'); } });
    try {
      yield* sleep(1);
      console.log('ready');
      yield* sleep(1e9);
    } finally {
      console.log('root finally');
      ${finallyBody}
    }
  }, ${options}).then((code) => console.log('main resolved ' + code + ', SIGINT listeners ' + process.listenerCount('SIGINT') + ', SIGTERM listeners ' + process.listenerCount('SIGTERM')));
`;

describe('main(fn): exit codes (child processes)', () => {
  it('0 when the root returns; the other greenthreads are shut down (finally blocks run) and the process exits', () => {
    const r = node(`
      const { main, sleep, spawn } = require('./dist');
      main(function* app() {
        spawn(function* other() { try { yield* sleep(1e9); } finally { console.log('other finally'); } });
        yield* sleep(5);
        console.log('root returns');
        return 'value';
      }).then((code) => console.log('main resolved ' + code + ', SIGINT listeners ' + process.listenerCount('SIGINT')));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['root returns', 'other finally', 'main resolved 0, SIGINT listeners 0']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('1 when the root throws, the error printed once (not again by the hub\'s error handler)', () => {
    const r = node(`
      const { main, sleep } = require('./dist');
      main(function* app() {
        yield* sleep(5);
        throw new Error('app failed');
      }).then((code) => console.log('main resolved ' + code));
    `);
    expect(r.stdout.trim()).toBe('main resolved 1');
    expect(r.stderr.match(/Error: app failed/g)).toHaveLength(1);
    expect(r.stderr).toContain('greenthread "app" (id 1) failed');
    expect(r.stderr).not.toContain('uncaught error in greenthread');
    expect(r.status).toBe(1);
  });

  it('1 when the root returns but another greenthread\'s uncaught error was printed', () => {
    const r = node(`
      const { main, sleep, spawn } = require('./dist');
      main(function* app() {
        spawn(function* helper() { throw new Error('helper failed'); });
        yield* sleep(20);
      }).then((code) => console.log('main resolved ' + code));
    `);
    expect(r.stderr).toContain('uncaught error in greenthread "helper"');
    expect(r.stdout.trim()).toBe('main resolved 1');
    expect(r.status).toBe(1);
  });

  it('130 on SIGINT: the root is killed, its finally blocks run (one waits), then the rest are shut down', async () => {
    const p = start(PROGRAM());
    await p.line('ready');
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.stdout.trim().split('\n')).toEqual([
      'ready',
      'root finally',
      'cleanup done',
      'other finally',
      'main resolved 130, SIGINT listeners 0, SIGTERM listeners 0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(130);
  });

  it('143 on SIGTERM', async () => {
    const p = start(PROGRAM());
    await p.line('ready');
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.stdout).toContain('cleanup done\nother finally\nmain resolved 143');
    expect(r.code).toBe(143);
  });

  it('exits with the signal\'s code once the grace period ends, if the root has not ended', async () => {
    const p = start(PROGRAM('{ gracePeriodMs: 200 }', 'yield* sleep(1e9);'));
    await p.line('ready');
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.stdout.trim().split('\n')).toEqual(['ready', 'root finally']);
    expect(r.stderr).toContain('greenhub: main: "app" did not end within 200 ms of SIGTERM; exiting');
    expect(r.code).toBe(143);
  });

  it('exits at once on a second signal (with no grace limit)', async () => {
    const p = start(PROGRAM('{ gracePeriodMs: Infinity }', 'yield* sleep(1e9);'));
    await p.line('ready');
    p.child.kill('SIGTERM');
    await p.line('root finally');
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.stdout.trim().split('\n')).toEqual(['ready', 'root finally']);
    expect(r.code).toBe(130);
  });

  it('gives back the signals when the root ends: a later SIGINT is Node\'s default again', async () => {
    const p = start(`
      const { main, sleep } = require('./dist');
      main(function* app() { yield* sleep(1); }).then(() => {
        console.log('ready');
        setInterval(() => {}, 1000); // the process stays up: only the signal can end it
      });
    `);
    await p.line('ready');
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.signal).toBe('SIGINT');
  });

  it('allows one main() at a time', () => {
    const r = node(`
      const { main, sleep } = require('./dist');
      main(function* first() { yield* sleep(5); });
      try { main(function* second() {}); } catch (e) { console.log(e.message); }
    `);
    expect(r.stdout.trim()).toBe('main() is already running: a program has one root greenthread');
    expect(r.status).toBe(0);
  });
});

describe('main(fn): arguments', () => {
  it('rejects a non-function, unknown options and a bad grace period, before starting anything', () => {
    expect(() => main(5 as never)).toThrow(TypeError);
    expect(() => main(function* () {}, { gracePeriod: 10 } as never)).toThrow(/unknown option.*'gracePeriod'/);
    expect(() => main(function* () {}, { gracePeriodMs: -1 })).toThrow(RangeError);
    expect(() => main(function* () {}, { name: 3 as never })).toThrow(TypeError);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('is called from top-level code, not from inside a greenthread', async () => {
    const err = await Promise.resolve(spawn(function* () {
      main(function* () {});
    })).then(() => undefined, (e: Error) => e.message);
    expect(err).toBe('main() starts the root greenthread of the program: call it from top-level code, not from inside a greenthread');
  });
});
