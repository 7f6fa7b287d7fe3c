// waitAny (lib/io/wait-any.ts): a green select over several fds — user fds (pipes, eventfds)
// and green handles — on real fds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TimeoutError, getHub, sleep, spawn, trampoline, withTimeout } from '../lib';
import type { Green } from '../lib';
import { pipe as greenPipe } from '../lib/io/green-fd';
import { socketpair } from '../lib/io/socketpair';
import { type WaitAnyReady, waitAny } from '../lib/io/wait-any';
import { native } from '../lib/native';
import { endedKilled, run } from './helpers/green';
import { closeAll, pipe, writeStr } from './helpers/raw';

/** The hub's counters that a finished wait must leave as they were. */
function baseline(): { fdWaiters: number; registeredFds: number; greenthreads: number; timers: number } {
  const s = getHub().stats();
  return { fdWaiters: s.fdWaiters, registeredFds: s.registeredFds, greenthreads: s.greenthreads, timers: s.timers };
}

describe('waitAny: readiness', () => {
  it('returns at once, with no switch, every fd that was ready before the call (an edge consumed earlier cannot hang it), in the order given', async () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    writeStr(w2, 'x');
    writeStr(w1, 'y');
    const got = await run(function* () {
      const before = getHub().stats().switches;
      const ready = yield* waitAny([{ fd: r1, read: true }, { fd: r2, read: true }, { fd: w2, write: true }]);
      return { ready, switches: getHub().stats().switches - before };
    });
    expect(got).toEqual({
      ready: [
        { fd: r1, read: true, write: false },
        { fd: r2, read: true, write: false },
        { fd: w2, read: false, write: true },
      ],
      switches: 0,
    });
    expect(getHub().stats().registeredFds).toBe(0); // nothing was registered for a poll
    closeAll(r1, w1, r2, w2);
  });

  it('waits until one of several becomes ready and returns just that one; its watchers and registrations are gone afterwards', async () => {
    const efd = native.eventfd(0);
    const [r, w] = pipe();
    const [a, b] = socketpair();
    const before = baseline();
    const log: string[] = [];
    const ready = await run(function* (): Green<WaitAnyReady[]> {
      spawn(function* () {
        yield* sleep(5);
        log.push('signal');
        native.eventfdWrite(efd, 1);
      });
      const got = yield* waitAny([{ fd: r, read: true }, { fd: efd, read: true }, { fd: a, read: true }]);
      log.push('woke');
      return got;
    });
    expect(log).toEqual(['signal', 'woke']);
    expect(ready).toEqual([{ fd: efd, read: true, write: false }]);
    expect(baseline()).toEqual(before);
    native.close(efd);
    closeAll(r, w);
    a.close();
    b.close();
  });

  it('takes green handles, reports them as passed, and counts a handle\'s read-ahead bytes as readable', async () => {
    const [a, b] = socketpair();
    const [pr, pw] = greenPipe();
    const got = await run(function* () {
      const out: unknown[] = [];
      // Both directions of one entry: a fresh socket is writable, not readable.
      out.push(yield* waitAny([{ fd: a, read: true, write: true }, { fd: pr, read: true }]));
      // Two lines arrive; readLine takes one and buffers the other: still readable, though the kernel has none.
      yield* b.sendAll(Buffer.from('one\ntwo\n'));
      out.push((yield* a.readLine()).toString());
      out.push(yield* waitAny([{ fd: a, read: true }, { fd: pr, read: true }], { timeoutMs: 1000 }));
      // A pipe whose writer closed is ready to read (end of stream).
      pw.close();
      out.push(yield* waitAny([{ fd: pr, read: true }]));
      return out;
    });
    expect(got).toEqual([
      [{ fd: a, read: false, write: true }],
      'one\n',
      [{ fd: a, read: true, write: false }],
      [{ fd: pr, read: true, write: false }],
    ]);
    a.close();
    b.close();
    pr.close();
  });

  it('reports a green socket that becomes readable while it waits', async () => {
    const [a, b] = socketpair();
    const got = await run(function* () {
      spawn(function* () {
        yield* sleep(2);
        yield* b.sendAll(Buffer.from('hi'));
      });
      const ready = yield* waitAny([{ fd: a, read: true }]);
      return { ready, data: (yield* a.recv()).toString() };
    });
    expect(got).toEqual({ ready: [{ fd: a, read: true, write: false }], data: 'hi' });
    a.close();
    b.close();
  });
});

describe('waitAny: timeouts', () => {
  it('returns an empty array past timeoutMs (like select), leaving no timer, watcher or registration', async () => {
    const [r, w] = pipe();
    const before = baseline();
    const got = await run(function* () {
      const t0 = performance.now();
      const ready = yield* waitAny([{ fd: r, read: true }], { timeoutMs: 20 });
      return { ready, waited: performance.now() - t0 };
    });
    expect(got.ready).toEqual([]);
    expect(got.waited).toBeGreaterThanOrEqual(19);
    expect(baseline()).toEqual(before);
    closeAll(r, w);
  });

  it('timeoutMs: 0 polls and returns at once', async () => {
    const [r, w] = pipe();
    const got = await run(function* () {
      const before = getHub().stats().switches;
      const empty = yield* waitAny([{ fd: r, read: true }], { timeoutMs: 0 });
      writeStr(w, 'x');
      const one = yield* waitAny([{ fd: r, read: true }], { timeoutMs: 0 });
      return { empty, one, switches: getHub().stats().switches - before };
    });
    expect(got).toEqual({ empty: [], one: [{ fd: r, read: true, write: false }], switches: 0 });
    closeAll(r, w);
  });

  it('an outer timeout is thrown, not taken for its own (withTimeout around it)', async () => {
    const [r, w] = pipe();
    const before = baseline();
    const err = await run(function* () {
      try {
        yield* withTimeout(10, waitAny([{ fd: r, read: true }], { timeoutMs: 5000 }));
        return 'returned';
      } catch (e) {
        return e instanceof TimeoutError ? 'TimeoutError' : String(e);
      }
    });
    expect(err).toBe('TimeoutError');
    expect(baseline()).toEqual(before);
    closeAll(r, w);
  });
});

describe('waitAny: one reader and one writer per fd', () => {
  it('an fd another greenthread waits on, in the same direction, is ERR_ROLE_TAKEN; the other direction is free', async () => {
    const [a, b] = socketpair();
    const got = await run(function* () {
      const reader = spawn(function* () {
        return (yield* a.recv()).toString();
      });
      yield* sleep(1);
      let code = '';
      try {
        yield* waitAny([{ fd: a, read: true }]);
      } catch (e) {
        code = (e as { code: string }).code;
      }
      const writable = yield* waitAny([{ fd: a, write: true }]);
      yield* b.sendAll(Buffer.from('x'));
      return { code, writable: writable.length, read: yield* reader.wait() };
    });
    expect(got).toEqual({ code: 'ERR_ROLE_TAKEN', writable: 1, read: 'x' });
    a.close();
    b.close();
  });

  it('while a waitAny waits on an fd, a read that has to wait there is ERR_ROLE_TAKEN, naming the waitAny', async () => {
    const [a, b] = socketpair();
    const efd = native.eventfd(0);
    const got = await run(function* () {
      const waiter = spawn({ name: 'selector' }, function* () {
        return yield* waitAny([{ fd: a, read: true }, { fd: efd, read: true }]);
      });
      yield* sleep(2);
      const waitingOn = getHub().dump().find((g) => g.name === 'selector')?.waitingOn;
      let message = '';
      try {
        yield* a.recv();
      } catch (e) {
        message = `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      try {
        yield* trampoline(efd, { read: true });
      } catch (e) {
        message += ` | ${(e as { code: string }).code}`;
      }
      native.eventfdWrite(efd, 1);
      return { waitingOn, message, ready: yield* waiter.wait() };
    });
    expect(got.waitingOn).toBe(`waitAny() on fds ${a.fd} (read), ${efd} (read)`);
    expect(got.message).toMatch(/^ERR_ROLE_TAKEN: fd \d+ already has a reader: greenthread \d+ \(waitAny\(\) of selector\).* \| ERR_ROLE_TAKEN$/);
    expect(got.ready).toEqual([{ fd: efd, read: true, write: false }]);
    native.close(efd);
    a.close();
    b.close();
  });
});

describe('waitAny: kill, close, errors', () => {
  it('killed while waiting: every watcher and registration is released, and the same fds can be waited on again', async () => {
    const [r, w] = pipe();
    const efd = native.eventfd(0);
    const [a, b] = socketpair();
    const before = baseline();
    const got = await run(function* () {
      const victim = spawn(function* () {
        yield* waitAny([{ fd: r, read: true }, { fd: efd, read: true }, { fd: a, read: true }]);
      });
      yield* sleep(2);
      const during = getHub().stats().fdWaiters - before.fdWaiters;
      victim.kill();
      const killed = yield* endedKilled(victim);
      const after = baseline();
      // Everything can be waited on again, by anyone.
      spawn(function* () {
        yield* sleep(2);
        writeStr(w, 'x');
        native.eventfdWrite(efd, 1);
        yield* b.sendAll(Buffer.from('y'));
      });
      const again = yield* waitAny([{ fd: r, read: true }, { fd: efd, read: true }, { fd: a, read: true }]);
      yield* trampoline(efd, { read: true });
      yield* a.recv();
      return { during, killed, after, again: again.length > 0 };
    });
    expect(got.during).toBe(3);
    expect(got.killed).toBe(true);
    expect(got.after).toEqual({ ...before, greenthreads: before.greenthreads + 1 }); // + the one measuring
    expect(got.again).toBe(true);
    expect(baseline()).toEqual(before);
    native.close(efd);
    closeAll(r, w);
    a.close();
    b.close();
  });

  it('killed before its watchers ever ran: none of them runs', async () => {
    const [r, w] = pipe();
    const before = baseline();
    await run(function* () {
      const victim = spawn(function* () {
        yield* waitAny([{ fd: r, read: true }]);
      });
      yield* sleep(0); // the victim parks and spawns its watcher; the watcher has not started
      victim.kill();
      yield* sleep(1);
    });
    expect(baseline()).toEqual(before);
    closeAll(r, w);
  });

  it('a green socket closed while waited on wakes the waitAny with its closed error; a closed handle or fd is an error up front', async () => {
    const [a, b] = socketpair();
    const [r, w] = pipe();
    const codes = await run(function* () {
      const waiter = spawn(function* () {
        try {
          yield* waitAny([{ fd: r, read: true }, { fd: a, read: true }]);
          return 'returned';
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      yield* sleep(2);
      a.close();
      const out = [yield* waiter.wait()];
      try {
        yield* waitAny([{ fd: a, read: true }]);
      } catch (e) {
        out.push((e as { code: string }).code);
      }
      return out;
    });
    expect(codes).toEqual(['ERR_SOCKET_CLOSED', 'ERR_SOCKET_CLOSED']);
    const fd = r;
    closeAll(r, w);
    b.close();
    expect(() => waitAny([{ fd, read: true }])).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('rejects bad arguments with TypeError/RangeError, before anything waits', async () => {
    const [r, w] = pipe();
    const file = path.join(os.tmpdir(), `greenhub-wait-any-${process.pid}`);
    fs.writeFileSync(file, 'x');
    const ffd = fs.openSync(file, 'r');
    await run(function* () {
      expect(() => waitAny('x' as never)).toThrow(/waitAny needs an array of \{ fd, read\?, write\? \}, got a string/);
      expect(() => waitAny([])).toThrow(/at least one fd .*use sleep\(ms\)/);
      expect(() => waitAny([null as never])).toThrow(TypeError);
      expect(() => waitAny([{ fd: r }])).toThrow(/entries\[0\] needs read: true or write: true/);
      expect(() => waitAny([{ fd: r, read: true, rd: true } as never])).toThrow(/unknown option/);
      expect(() => waitAny([{ fd: r, read: 1 as never }])).toThrow(TypeError);
      expect(() => waitAny([{ fd: 'r' as never, read: true }])).toThrow(/must be a file descriptor or a green socket/);
      expect(() => waitAny([{ fd: -1, read: true }])).toThrow(RangeError);
      expect(() => waitAny([{ fd: r, read: true }, { fd: r, write: true }])).toThrow(/fd \d+ is listed twice \(entries\[0\] and entries\[1\]\)/);
      expect(() => waitAny([{ fd: ffd, read: true }])).toThrow(/regular file/);
      expect(() => waitAny([{ fd: r, read: true }], { timeout: 5 } as never)).toThrow(/unknown option/);
      expect(() => waitAny([{ fd: r, read: true }], { timeoutMs: -1 })).toThrow(RangeError);
    });
    expect(() => waitAny([{ fd: r, read: true }])).toThrow(/inside a greenthread/);
    // A forgotten star: `yield op` is a TypeError that says to write yield*.
    const forgot = await run(function* (): Green<string> {
      try {
        yield waitAny([{ fd: w, write: true }]);
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(forgot).toMatch(/yield\*/);
    expect(getHub().stats().fdWaiters).toBe(0);
    // The native calls under it check their arguments too (a TypeError/RangeError, never a crash).
    expect(() => native.pollMany(new Int32Array(3), 2)).toThrow(RangeError);
    expect(() => native.pollMany([r, 1, 0] as never, 1)).toThrow(TypeError);
    expect(() => native.socketpair(1, new Int32Array(1))).toThrow(RangeError);
    expect(() => native.dup('3' as never)).toThrow(TypeError);
    expect(native.dup(1 << 30)).toBe(-9); // -EBADF: a value, not an exception
    fs.closeSync(ffd);
    fs.unlinkSync(file);
    closeAll(r, w);
  });
});
