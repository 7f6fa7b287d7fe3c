// Failure modes of green I/O under real faults: fd reuse, a slow reader.
import { describe, expect, it } from 'vitest';
import { TimeoutError, connect, listen, sleep, spawn } from '../lib';
import type { Green, GreenSocket } from '../lib';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';

const pair = (_port: number, server: ReturnType<typeof listen>): Green<[GreenSocket, GreenSocket]> => connectedPair(server);

describe('fd reuse', () => {
  it('a socket that gets a closed socket\'s fd number at once sees none of the old one\'s wake-ups', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [a, aPeer] = yield* pair(port, server);
      const oldFd = a.fd;
      const blocked = spawn(function* (): Green<string> {
        try {
          yield* a.recv();
          return 'woke with data';
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      yield* sleep(0);
      // Data for the old socket is in flight (its edge will be in the next drain)…
      yield* aPeer.sendAll(Buffer.from('for the old socket'));
      // …and in the same turn the old socket closes and a new one takes its number.
      a.close();
      const [b, bPeer] = yield* pair(port, server);
      const reused = b.fd === oldFd || bPeer.fd === oldFd;
      const old = yield* blocked.wait();
      // The new socket reads only what is sent to it.
      yield* (b.fd === oldFd ? bPeer : b).sendAll(Buffer.from('fresh'));
      const got = (yield* (b.fd === oldFd ? b : bPeer).recv()).toString();
      for (const s of [aPeer, b, bPeer]) s.close();
      return { reused, old, got };
    });
    server.close();
    expect(r.reused).toBe(true);
    expect(r.old).toBe('ERR_SOCKET_CLOSED');
    expect(r.got).toBe('fresh');
  });
});

describe('a slow reader', () => {
  it('blocks only its own connection\'s sendAll; the others keep serving; a socket timeout frees it', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [stuck, stuckPeer] = yield* pair(port, server);
      const [fast, fastPeer] = yield* pair(port, server);
      stuckPeer.setTimeout(200);
      const sender = spawn(function* (): Green<string> {
        try {
          yield* stuckPeer.sendAll(Buffer.alloc(32 << 20)); // the client never reads
          return 'sent';
        } catch (e) {
          return e instanceof TimeoutError ? 'timed out' : String(e);
        }
      });
      // Meanwhile another connection is served normally.
      const echoes: string[] = [];
      for (let i = 0; i < 5; i++) {
        yield* fast.sendAll(Buffer.from(`m${i}`));
        echoes.push((yield* fastPeer.recv()).toString());
        yield* sleep(5);
      }
      const senderBlockedMeanwhile = !sender.dead;
      const outcome = yield* sender.wait();
      for (const s of [stuck, stuckPeer, fast, fastPeer]) s.close();
      return { echoes, senderBlockedMeanwhile, outcome };
    });
    server.close();
    expect(r.echoes).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(r.senderBlockedMeanwhile).toBe(true);
    expect(r.outcome).toBe('timed out');
  });
});
