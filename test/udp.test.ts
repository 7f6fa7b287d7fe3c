// udpSocket (lib/io/udp.ts)
import { describe, expect, it } from 'vitest';
import { TimeoutError, sleep, spawn, udpSocket } from '../lib';
import type { Datagram, Green } from '../lib';
import { run } from './helpers/green';

describe('udpSocket', () => {
  it('sends and receives datagrams with the sender\'s address, on 127.0.0.1 and ::1', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const a = udpSocket({ bind: { host, port: 0 } });
      const b = udpSocket({ bind: { host, port: 0 } });
      const got = await run(function* (): Green<Datagram[]> {
        const reader = spawn(function* (): Green<Datagram[]> {
          const out: Datagram[] = [];
          for (let i = 0; i < 3; i++) out.push(yield* b.recvFrom());
          return out;
        });
        for (const word of ['one', 'two', 'three']) yield* a.sendTo(Buffer.from(word), b.address().port, host);
        return yield* reader.wait();
      });
      expect(got.map((d) => d.data.toString())).toEqual(['one', 'two', 'three']);
      expect(got[0]).toMatchObject({ address: host, port: a.address().port, family: host === '::1' ? 'IPv6' : 'IPv4' });
      a.close();
      b.close();
    }
  });

  it('times out a recvFrom that gets nothing, and close() wakes a blocked reader', async () => {
    const s = udpSocket({ bind: { port: 0 } });
    const r = await run(function* () {
      s.setTimeout(10);
      let timedOut = false;
      try {
        yield* s.recvFrom();
      } catch (e) {
        timedOut = e instanceof TimeoutError;
      }
      s.setTimeout(null); // no timeout (0 would be non-blocking)
      const blocked = spawn(function* (): Green<string> {
        try {
          yield* s.recvFrom();
          return 'returned';
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      yield* sleep(1);
      s.close();
      return { timedOut, closed: yield* blocked.wait() };
    });
    expect(r).toEqual({ timedOut: true, closed: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  });

  it('rejects bad arguments', async () => {
    expect(() => udpSocket({ bind: { host: 'nowhere' } })).toThrow(/IP address literal/);
    expect(() => udpSocket({ bind: { port: -1 } })).toThrow(RangeError);
    const s = udpSocket();
    await run(function* () {
      expect(() => s.sendTo('x' as never, 1)).toThrow(TypeError);
      expect(() => s.sendTo(Buffer.from('x'), 70000)).toThrow(RangeError);
    });
    s.close();
  });
});
