// trampoline (lib/io/trampoline.ts), on real pipes and eventfds.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TimeoutError, getHub, sleep, spawn, trampoline } from '../lib';
import type { Green } from '../lib';
import { native } from '../lib/native';
import { run } from './helpers/green';
import { closeAll, pipe, tcpPair, writeStr } from './helpers/raw';

describe('trampoline', () => {
  it('returns at once for an fd that was ready before the call (an edge consumed earlier cannot hang it)', async () => {
    const [r, w] = pipe();
    writeStr(w, 'x');
    const switches = await run(function* (): Green<number> {
      const before = getHub().stats().switches;
      yield* trampoline(r, { read: true });
      yield* trampoline(r, { read: true }); // still readable: the data was not read
      return getHub().stats().switches - before;
    });
    expect(switches).toBe(0);
    closeAll(r, w);
  });

  it('waits until another greenthread makes the fd readable', async () => {
    const efd = native.eventfd(0);
    const log: string[] = [];
    await run(function* () {
      const waiter = spawn(function* () {
        yield* trampoline(efd, { read: true });
        log.push(`readable: ${native.eventfdRead(efd)}`);
      });
      yield* sleep(5);
      log.push('signalling');
      native.eventfdWrite(efd, 3);
      yield* waiter.wait();
    });
    expect(log).toEqual(['signalling', 'readable: 3']);
    expect(getHub().stats().registeredFds).toBe(0); // deregistered after the wait
    native.close(efd);
  });

  it('waits for a full pipe to become writable', async () => {
    const [r, w] = pipe();
    const chunk = Buffer.alloc(65536);
    while (native.write(w, chunk, 0, chunk.length) > 0) {
      /* fill the pipe */
    }
    await run(function* () {
      const writer = spawn(function* () {
        yield* trampoline(w, { write: true });
      });
      yield* sleep(2);
      expect(writer.dead).toBe(false);
      native.read(r, chunk, 0, chunk.length);
      yield* writer.wait();
    });
    closeAll(r, w);
  });

  it('a reader and a writer on one fd leave no registration behind, whichever ends first', async () => {
    const [c, srv] = tcpPair();
    const chunk = Buffer.alloc(65536);
    while (native.write(c, chunk, 0, chunk.length) > 0) {
      /* fill the send buffer */
    }
    await run(function* () {
      const reader = spawn(function* () {
        try {
          yield* trampoline(c, { read: true, timeoutMs: 10 });
        } catch {
          /* timed out */
        }
      });
      const writer = spawn(function* () {
        try {
          yield* trampoline(c, { write: true, timeoutMs: 30 });
        } catch {
          /* timed out */
        }
      });
      yield* reader.wait();
      yield* writer.wait();
    });
    expect(getHub().stats().registeredFds).toBe(0);
    closeAll(c, srv);
  });

  it('throws TimeoutError (ETIMEDOUT) past timeoutMs and leaves no timer or registration', async () => {
    const [r, w] = pipe();
    const err = await run(function* (): Green<unknown> {
      try {
        yield* trampoline(r, { read: true, timeoutMs: 10 });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('ETIMEDOUT');
    expect(getHub().stats()).toMatchObject({ timers: 0, fdWaiters: 0, registeredFds: 0 });
    closeAll(r, w);
  });

  it('rejects read and write at once, neither, a second reader, a regular file and a closed fd', async () => {
    const [r, w] = pipe();
    const file = fs.openSync(__filename, 'r');
    await run(function* () {
      expect(() => trampoline(r, { read: true, write: true })).toThrow(/not both/);
      expect(() => trampoline(r, {})).toThrow(/read: true/);
      expect(() => trampoline(-1, { read: true })).toThrow(RangeError);
      expect(() => trampoline(file, { read: true })).toThrow(/regular file/);
      expect(() => trampoline(987_654, { read: true })).toThrow(expect.objectContaining({ code: 'EBADF' }));
      const first = spawn(function* () {
        yield* trampoline(r, { read: true });
      });
      yield* sleep(0);
      let second: unknown;
      try {
        yield* trampoline(r, { read: true });
      } catch (e) {
        second = e;
      }
      expect(String(second)).toMatch(/already has a reader/);
      first.kill();
    });
    fs.closeSync(file);
    closeAll(r, w);
  });
});
