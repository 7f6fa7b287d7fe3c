// Green subprocesses (lib/io/subprocess.ts, lib/io/subprocess-run.ts): real children (/bin/sh,
// cat, sleep, node itself) whose pipes are GreenFds; every path leaves no fd and no child behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GreenletExit, TimeoutError } from '../lib/errors';
import { getHub } from '../lib/hub/hub';
import { sleep } from '../lib/sleep';
import { spawn } from '../lib/spawn';
import type { Green } from '../lib/types';
import { withTimeout } from '../lib/sync/timeout';
import { spawnProcess } from '../lib/io/subprocess';
import { type RunError, runProcess } from '../lib/io/subprocess-run';
import { openFds } from './helpers/fds';
import { endedKilled, run } from './helpers/green';

const NODE = process.execPath;
let fdsBefore: number;
let tmp: string;
const reported: unknown[] = [];

beforeEach(() => {
  fdsBefore = openFds().length;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'greenhub-subprocess-'));
  reported.length = 0;
  getHub().onError((e) => reported.push(e));
});
afterEach(() => {
  getHub().onError(null);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every test: the fds it opened are closed once it is done. */
function expectNoFdLeak(): void {
  expect(openFds().length).toBe(fdsBefore);
}

/** Whether a process with this pid exists (a zombie counts: it was not reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== 'ESRCH';
  }
}

function* until(cond: () => boolean, ms = 10_000): Green<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    yield* sleep(10);
  }
}

/** A pid the child wrote to a file (for children that runProcess hides). */
function* pidFrom(file: string): Green<number> {
  yield* until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('\n'));
  return Number(fs.readFileSync(file, 'utf8'));
}

describe('spawnProcess', () => {
  it('talks to cat line by line through green pipes, then sees end of stream and exit code 0', async () => {
    const got = await run(function* () {
      const proc = yield* spawnProcess('cat');
      expect(proc.pid).toBeGreaterThan(0);
      yield* proc.stdin!.sendAll(Buffer.from('one\ntwo\n'));
      const a = (yield* proc.stdout!.readLine()).toString();
      const b = (yield* proc.stdout!.readLine()).toString();
      expect(proc.status).toBeUndefined();
      proc.stdin!.close();
      const eof = yield* proc.stdout!.readLine();
      const status = yield* proc.wait();
      proc.close();
      return { a, b, eof: eof.length, status, after: proc.status };
    });
    expect(got).toEqual({ a: 'one\n', b: 'two\n', eof: 0, status: { code: 0, signal: null }, after: { code: 0, signal: null } });
    expectNoFdLeak();
  });

  it('reports exit codes, and keeps stdout and stderr apart', async () => {
    const got = await run(function* () {
      const proc = yield* spawnProcess('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], { stdio: ['ignore', 'pipe', 'pipe'] });
      expect(proc.stdin).toBeNull();
      const out = (yield* proc.stdout!.readLine()).toString();
      const err = (yield* proc.stderr!.readLine()).toString();
      const status = yield* proc.wait();
      proc.close();
      return { out, err, status };
    });
    expect(got).toEqual({ out: 'out\n', err: 'err\n', status: { code: 3, signal: null } });
    expectNoFdLeak();
  });

  it('kill() signals the child: wait() returns the signal; a second kill after the end sends nothing', async () => {
    const got = await run(function* () {
      const proc = yield* spawnProcess('sleep', ['30'], { stdio: 'ignore' });
      expect([proc.stdin, proc.stdout, proc.stderr]).toEqual([null, null, null]);
      expect(proc.kill('SIGKILL')).toBe(true);
      const status = yield* proc.wait();
      return { status, killed: proc.killed, again: proc.kill(), pidAlive: alive(proc.pid) };
    });
    expect(got).toEqual({ status: { code: null, signal: 'SIGKILL' }, killed: true, again: false, pidAlive: false });
    expectNoFdLeak();
  });

  it('throws a failed spawn like child_process (ENOENT, syscall, path, spawnargs) and leaves no fd', async () => {
    const err = await run(function* () {
      try {
        yield* spawnProcess('/nonexistent/greenhub-prog', ['a', 'b']);
      } catch (e) {
        return e as Error & Record<string, unknown>;
      }
      throw new Error('no error');
    });
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'spawn /nonexistent/greenhub-prog', path: '/nonexistent/greenhub-prog', spawnargs: ['a', 'b'] });
    expectNoFdLeak();
  });

  it('a missing cwd is ENOENT too, with no fd left', async () => {
    const code = await run(function* () {
      try {
        yield* spawnProcess('cat', [], { cwd: '/nonexistent/dir' });
        return 'spawned';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(code).toBe('ENOENT');
    expectNoFdLeak();
  });

  it('a greenthread killed while a failed spawn is being reported ends with GreenletExit, no fd left', async () => {
    const outcome = await run(function* () {
      const victim = spawn(function* () {
        yield* spawnProcess('/nonexistent/greenhub-prog');
      });
      yield* sleep(0);
      victim.kill();
      try {
        yield* victim.wait();
        return 'no error';
      } catch (e) {
        return e instanceof GreenletExit ? 'GreenletExit' : (e as { code?: string }).code;
      }
    });
    // Node reports the failure on its next tick, after the hub's turns: the kill lands first.
    expect(outcome).toBe('GreenletExit');
    expectNoFdLeak();
  });

  it('a greenthread killed in wait() just stops waiting: the child runs on', async () => {
    const got = await run(function* () {
      const proc = yield* spawnProcess('sleep', ['30'], { stdio: 'ignore' });
      const waiter = spawn(() => proc.wait());
      yield* sleep(20);
      waiter.kill();
      let waiterError: unknown;
      try {
        yield* waiter.wait();
      } catch (e) {
        waiterError = e;
      }
      const stillRunning = proc.status === undefined && alive(proc.pid);
      proc.kill();
      const status = yield* proc.wait();
      return { killedWaiter: waiterError instanceof GreenletExit, stillRunning, status };
    });
    expect(got).toEqual({ killedWaiter: true, stillRunning: true, status: { code: null, signal: 'SIGTERM' } });
    expectNoFdLeak();
  });

  it('wait({ timeoutMs }) throws TimeoutError and leaves the child alone; every waiter gets the status', async () => {
    const got = await run(function* () {
      const proc = yield* spawnProcess('sleep', ['30'], { stdio: 'ignore' });
      let timedOut = false;
      try {
        yield* proc.wait({ timeoutMs: 30 });
      } catch (e) {
        timedOut = e instanceof TimeoutError;
      }
      const others = [spawn(() => proc.wait()), spawn(() => proc.wait())];
      yield* sleep(0);
      proc.kill('SIGINT');
      const statuses = [yield* others[0].wait(), yield* others[1].wait(), yield* proc.wait()];
      return { timedOut, statuses };
    });
    const st = { code: null, signal: 'SIGINT' };
    expect(got).toEqual({ timedOut: true, statuses: [st, st, st] });
  });

  it("passes args, env and cwd to the child (node itself), with no shell in between", async () => {
    const out = await run(function* () {
      const proc = yield* spawnProcess(NODE, ['-e', 'process.stdout.write([process.argv[1], process.env.GH_X, process.cwd()].join("|"))', '$HOME; *'], {
        cwd: tmp,
        env: { GH_X: 'from env' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const chunks: Buffer[] = [];
      for (let c; (c = yield* proc.stdout!.recv()).length > 0; ) chunks.push(c);
      yield* proc.wait();
      proc.close();
      return Buffer.concat(chunks).toString();
    });
    expect(out).toBe(`$HOME; *|from env|${fs.realpathSync(tmp)}`);
    expectNoFdLeak();
  });

  it('writing to a child that has exited is EPIPE, not a crash', async () => {
    const code = await run(function* () {
      const proc = yield* spawnProcess('/bin/sh', ['-c', 'exit 0'], { stdio: ['pipe', 'ignore', 'ignore'] });
      yield* proc.wait();
      try {
        yield* proc.stdin!.sendAll(Buffer.alloc(1 << 20));
        return 'written';
      } catch (e) {
        return (e as { code?: string }).code;
      } finally {
        proc.close();
      }
    });
    expect(code).toBe('EPIPE');
    expectNoFdLeak();
  });

  it('checks its arguments at the call, and creates nothing without yield*', async () => {
    await run(function* () {
      expect(() => spawnProcess(42 as never)).toThrow(TypeError);
      expect(() => spawnProcess('')).toThrow(/non-empty string, got a string/);
      expect(() => spawnProcess('cat', 'x' as never)).toThrow(/args must be an array/);
      expect(() => spawnProcess('cat', [1 as never])).toThrow(/args\[0\] must be a string, got 1/);
      expect(() => spawnProcess('cat', [], { stdio: 'bogus' as never })).toThrow(/stdio must be/);
      expect(() => spawnProcess('cat', [], { stdio: ['pipe', 'pipe'] as never })).toThrow(/array of three/);
      expect(() => spawnProcess('cat', [], { stdio: ['pipe', 'pipe', 'x'] as never })).toThrow(/stdio\[2\]/);
      expect(() => spawnProcess('cat', [], { shel: true } as never)).toThrow(/unknown option.*'shel'/);
      expect(() => spawnProcess('cat', [], { cwd: 1 as never })).toThrow(/cwd must be a string/);
      spawnProcess('cat'); // forgotten yield*: no pipe, no child
      const proc = yield* spawnProcess('cat', [], { stdio: 'ignore' });
      expect(() => proc.kill('SIGNOPE' as never)).toThrow(TypeError);
      expect(() => proc.wait({ timeoutMs: -1 })).toThrow(RangeError);
      proc.kill();
      yield* proc.wait();
    });
    expect(() => spawnProcess('cat')).toThrow(/inside a greenthread/);
    expectNoFdLeak();
  });
});

describe('runProcess', () => {
  it('collects stdout and stderr apart, with the exit code (a non-zero code is not an error)', async () => {
    const r = await run(function* () {
      return yield* runProcess('/bin/sh', ['-c', 'echo out; echo err >&2; exit 7'], { encoding: 'utf8' });
    });
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 7, signal: null });
    expectNoFdLeak();
  });

  it('pushes 1 MiB of input through cat while reading its output (no deadlock), as Buffers', async () => {
    const input = Buffer.alloc(1 << 20);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7) & 0xff;
    const r = await run(function* () {
      return yield* runProcess('cat', [], { input, timeoutMs: 20_000 });
    });
    expect(Buffer.isBuffer(r.stdout)).toBe(true);
    expect(r.stdout.equals(input)).toBe(true);
    expect(r.stderr.length).toBe(0);
    expect(r.code).toBe(0);
    expectNoFdLeak();
  });

  it('gives stdin /dev/null without input, and a string input as utf8', async () => {
    const [none, str] = await run(function* () {
      const a = yield* runProcess('cat', [], { encoding: 'utf8' });
      const b = yield* runProcess('cat', [], { input: 'héllo', encoding: 'utf8' });
      return [a.stdout, b.stdout];
    });
    expect([none, str]).toEqual(['', 'héllo']);
  });

  it('ignores EPIPE when the child exits without reading its input', async () => {
    const r = await run(function* () {
      return yield* runProcess('/bin/sh', ['-c', 'exit 0'], { input: Buffer.alloc(4 << 20) });
    });
    expect(r.code).toBe(0);
    expectNoFdLeak();
  });

  it('runs through a shell only when asked', async () => {
    const [shell, plain] = await run(function* () {
      const a = yield* runProcess('echo $((1 + 2))', [], { shell: true, encoding: 'utf8' });
      const b = yield* runProcess('echo', ['$((1 + 2))'], { encoding: 'utf8' });
      return [a.stdout, b.stdout];
    });
    expect([shell, plain]).toEqual(['3\n', '$((1 + 2))\n']);
  });

  it('past timeoutMs kills the child with SIGTERM, reaps it, and throws TimeoutError with the output so far', async () => {
    const pidFile = path.join(tmp, 'pid');
    const err = await run(function* () {
      try {
        yield* runProcess('/bin/sh', ['-c', `echo started; echo $$ > ${pidFile}; exec sleep 30`], { timeoutMs: 1000, encoding: 'utf8' });
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', killed: true, signal: 'SIGTERM', stdout: 'started\n', stderr: '' });
    expect(err.cmd).toContain('/bin/sh -c');
    expect(err.message).toMatch(/timed out after 1000 ms/);
    expect(alive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false); // reaped before the throw
    expectNoFdLeak();
  });

  it('a child that writes a lot on its way out is not left blocked on a full pipe until SIGKILL: our ends are closed first', async () => {
    const err = await run(function* () {
      try {
        // On SIGTERM the shell writes 1 MB (more than a pipe holds) and exits 0.
        yield* runProcess('/bin/sh', ['-c', "trap 'head -c 1000000 /dev/zero; exit 0' TERM; sleep 5 & wait"], { timeoutMs: 500, killGraceMs: 3000 });
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect({ killed: err.killed, signal: err.signal }).toEqual({ killed: true, signal: null }); // it ended on its own, not by SIGKILL
    expectNoFdLeak();
  });

  it('killed is false when the child had already exited and only a grandchild held its output open', async () => {
    const err = await run(function* () {
      try {
        yield* runProcess('/bin/sh', ['-c', 'sleep 5 & echo parent done'], { timeoutMs: 500, encoding: 'utf8' });
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ killed: false, signal: null, stdout: 'parent done\n' });
    expectNoFdLeak();
  });

  it('collects output written a byte at a time, and stops exactly at maxBuffer', async () => {
    const r = await run(function* () {
      const ok = yield* runProcess('/bin/sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do printf x; i=$((i+1)); done'], { encoding: 'utf8' });
      let over: RunError | undefined;
      try {
        yield* runProcess('/bin/sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do printf y; i=$((i+1)); done'], { maxBuffer: 2500, encoding: 'utf8' });
      } catch (e) {
        over = e as RunError;
      }
      return { okLength: ok.stdout.length, allX: /^x+$/.test(ok.stdout as string), overCode: over?.code, overLength: over?.stdout.length };
    });
    expect(r).toEqual({ okLength: 3000, allX: true, overCode: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', overLength: 2500 });
    expectNoFdLeak();
  });

  it('a child that ignores SIGTERM gets SIGKILL after killGraceMs', async () => {
    const err = await run(function* () {
      try {
        yield* runProcess('/bin/sh', ['-c', "trap '' TERM; exec sleep 30"], { timeoutMs: 1000, killGraceMs: 200 });
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.signal).toBe('SIGKILL');
    expectNoFdLeak();
  });

  it('an outer withTimeout is not runProcess\'s own: it is rethrown unchanged, the child killed', async () => {
    const pidFile = path.join(tmp, 'pid');
    const got = await run(function* () {
      let err: unknown;
      try {
        yield* withTimeout(1000, runProcess('/bin/sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`], { timeoutMs: 20_000 }));
      } catch (e) {
        err = e;
      }
      const pid = yield* pidFrom(pidFile);
      yield* until(() => !alive(pid));
      return { timeout: err instanceof TimeoutError, killedField: (err as { killed?: unknown }).killed, message: (err as Error).message };
    });
    expect(got).toEqual({ timeout: true, killedField: undefined, message: 'operation timed out after 1000 ms' });
    expectNoFdLeak();
  });

  it('a greenthread killed inside runProcess kills the child, which is reaped (no zombie), and closes its pipes', async () => {
    const pidFile = path.join(tmp, 'pid');
    const got = await run(function* () {
      const victim = spawn(() => runProcess('/bin/sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`], { input: 'x' }));
      const pid = yield* pidFrom(pidFile);
      victim.kill();
      const killed = yield* endedKilled(victim);
      yield* until(() => !alive(pid));
      return killed;
    });
    expect(got).toBe(true);
    expectNoFdLeak();
    expect(reported).toEqual([]);
  });

  it('output beyond maxBuffer kills the child and throws ERR_CHILD_PROCESS_STDIO_MAXBUFFER with what fit', async () => {
    const err = await run(function* () {
      try {
        yield* runProcess('/bin/sh', ['-c', 'head -c 100000 /dev/zero; exec sleep 30'], { maxBuffer: 1000 });
      } catch (e) {
        return e as RunError;
      }
      throw new Error('no error');
    });
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', message: 'stdout maxBuffer length exceeded', killed: true, signal: 'SIGTERM' });
    expect((err.stdout as Buffer).length).toBe(1000);
    expectNoFdLeak();
  });

  it('throws ENOENT like spawnProcess, with no fd left', async () => {
    const err = await run(function* () {
      try {
        yield* runProcess('/nonexistent/greenhub-prog', [], { input: 'x' });
      } catch (e) {
        return e as Record<string, unknown>;
      }
      throw new Error('no error');
    });
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'spawn /nonexistent/greenhub-prog' });
    expectNoFdLeak();
  });

  it('checks its options at the call', async () => {
    await run(function* () {
      expect(() => runProcess('cat', [], { input: 5 as never })).toThrow(/input must be/);
      expect(() => runProcess('cat', [], { timeoutMs: -1 })).toThrow(RangeError);
      expect(() => runProcess('cat', [], { maxBuffer: -1 })).toThrow(RangeError);
      expect(() => runProcess('cat', [], { encoding: 'nope' as never })).toThrow(/encoding/);
      expect(() => runProcess('cat', [], { stdio: 'pipe' } as never)).toThrow(/unknown option/);
      expect(() => runProcess('cat', [], { stderr: 'ignore' as never })).toThrow(/stderr must be/);
    });
    expect(() => runProcess('cat')).toThrow(/inside a greenthread/);
  });

  it('runs several children at once, each greenthread waiting on its own', async () => {
    const outs = await run(function* () {
      const gts = [1, 2, 3, 4].map((i) => spawn(() => runProcess('/bin/sh', ['-c', `sleep 0.${i}; echo ${i}`], { encoding: 'utf8' })));
      const r: string[] = [];
      for (const gt of gts) r.push((yield* gt.wait()).stdout);
      return r;
    });
    expect(outs).toEqual(['1\n', '2\n', '3\n', '4\n']);
    expectNoFdLeak();
  });
});



