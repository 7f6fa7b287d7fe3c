// One reader, one writer, one acceptor at a time (lib/io/role.ts): a second concurrent one gets
// ERR_ROLE_TAKEN naming the holder; a server's own timeout bounds each wait of accept().
import { describe, expect, it } from 'vitest';
import { TimeoutError, listen, sleep, spawn } from '../lib';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';

describe('roles', () => {
  it('a second reader of a socket gets ERR_ROLE_TAKEN naming the greenthread that reads', async () => {
    const server = listen({ port: 0 });
    const err = await run(function* () {
      const [a, b] = yield* connectedPair(server);
      const first = spawn({ name: 'first reader' }, function* () {
        return yield* a.recv();
      });
      yield* sleep(0); // the first reader waits in recv()
      try {
        yield* a.recv();
        return { code: 'no error', message: '' };
      } catch (e) {
        return { code: (e as { code?: string }).code, message: (e as Error).message };
      } finally {
        first.kill();
        a.close();
        b.close();
      }
    });
    server.close();
    expect(err.code).toBe('ERR_ROLE_TAKEN');
    expect(err.message).toMatch(/^socket already has a reader: greenthread \d+ \(first reader\); one at a time$/);
  });

  it('a second acceptor of a server gets ERR_ROLE_TAKEN ("an acceptor")', async () => {
    const server = listen({ port: 0 });
    const message = await run(function* () {
      const first = spawn({ name: 'acceptor' }, function* () {
        return yield* server.accept();
      });
      yield* sleep(0);
      try {
        yield* server.accept();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      } finally {
        first.kill();
      }
    });
    server.close();
    expect(message).toMatch(/^server already has an acceptor: greenthread \d+ \(acceptor\); one at a time$/);
  });
});

describe('GreenServer.setTimeout', () => {
  it('bounds each wait of accept() with a TimeoutError', async () => {
    const server = listen({ port: 0 }).setTimeout(20);
    const got = await run(function* () {
      try {
        yield* server.accept();
        return 'accepted';
      } catch (e) {
        return e instanceof TimeoutError ? (e as Error).message : String(e);
      }
    });
    server.close();
    expect(got).toBe('server accept timed out after 20 ms');
  });
});
