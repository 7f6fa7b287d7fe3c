// An fd closed behind greenhub's back (lib/hub/fd-table.ts): the kernel hands its number to the
// next file at once. That number must work for the new file, the greenthread stuck on the old
// one must get an error (not hold the process for ever), the old handle must never close the
// new file, and no listening socket or accept loop may be lost when a registration fails.
import * as fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GreenFd, connect, getHub, listen, pipe, serve, sleep, spawn, trampoline } from '../lib';
import type { Green, GreenSocket } from '../lib';
import { openFds } from './helpers/fds';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';
import { closeAll, pipe as rawPipe } from './helpers/raw';

afterEach(() => {
  vi.restoreAllMocks();
  getHub().onWarning(null);
});

describe('a number reused after its fd was closed behind greenhub', () => {
  it('works for the new socket; the trampoline waiting on the old fd gets EBADF', async () => {
    const server = listen({ port: 0 });
    const [r, w] = rawPipe();
    const got = await run(function* () {
      const waiter = spawn(function* () {
        try {
          yield* trampoline(r, { read: true });
          return 'woke';
        } catch (e) {
          return (e as { code?: string }).code;
        }
      });
      yield* sleep(5);
      fs.closeSync(r); // behind greenhub's back, while a greenthread waits on it
      const [a, b] = yield* connectedPair(server); // the lowest free numbers: r among them
      const reused = a.fd === r || b.fd === r;
      yield* a.sendAll(Buffer.from('ping'));
      const echoed = (yield* b.recv()).toString();
      a.close();
      b.close();
      return { reused, echoed, waiter: yield* waiter.wait() };
    });
    server.close();
    fs.closeSync(w);
    expect(got).toEqual({ reused: true, echoed: 'ping', waiter: 'EBADF' });
  });

  it('a GreenFd whose fd was closed with fs.closeSync never closes the file that got its number', async () => {
    const [r1, w1] = rawPipe();
    const old = new GreenFd(r1);
    fs.closeSync(r1);
    const [r2, w2] = pipe(); // gets r1's number
    expect(r2.fd).toBe(r1);
    old.close(); // must not close r2's fd
    const got = await run(function* () {
      yield* w2.sendAll(Buffer.from('still open'));
      return (yield* r2.recv()).toString();
    });
    expect(got).toBe('still open');
    expect(old.closed).toBe(true);
    r2.close();
    w2.close();
    closeAll(w1);
  });
});

describe('a registration that fails', () => {
  it('leaves no listening socket behind when listen() cannot register it', () => {
    const before = openFds().length;
    vi.spyOn(getHub().fds, 'register').mockImplementationOnce(() => {
      throw Object.assign(new Error('epoll_ctl ENOSPC (injected)'), { code: 'ENOSPC' });
    });
    expect(() => listen({ port: 0 })).toThrow(/injected/);
    expect(openFds().length).toBe(before);
  });

  it('drops that one connection and keeps serve() accepting', async () => {
    const warnings: string[] = [];
    getHub().onWarning((m) => warnings.push(m));
    const server = listen({ port: 0 });
    const port = server.address().port;
    const served: string[] = [];
    const loop = spawn(() => serve(server, function* (sock: GreenSocket): Green<void> {
      served.push((yield* sock.readLine()).toString());
    }));
    const register = getHub().fds.register.bind(getHub().fds);
    let failNext = true;
    vi.spyOn(getHub().fds, 'register').mockImplementation((fd, owner, identity) => {
      // Only in the accept loop: the accepted socket's registration fails.
      if (failNext && (getHub() as unknown as { current: unknown }).current === loop) {
        failNext = false;
        throw Object.assign(new Error('epoll_ctl ENOSPC (injected)'), { code: 'ENOSPC' });
      }
      register(fd, owner, identity);
    });
    await run(function* () {
      const first = yield* connect({ host: '127.0.0.1', port }); // its accepted socket fails to register
      vi.restoreAllMocks();
      yield* sleep(20);
      const second = yield* connect({ host: '127.0.0.1', port });
      yield* second.sendAll(Buffer.from('second\n'));
      for (let i = 0; i < 100 && served.length === 0; i++) yield* sleep(5);
      first.close();
      second.close();
    });
    server.close();
    await loop;
    expect(served).toEqual(['second\n']);
    expect(warnings.some((m) => m.includes('dropped a connection that could not be set up'))).toBe(true);
  });
});
