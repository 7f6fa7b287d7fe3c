// Reads land in one buffer shared by every reader of the thread while a reader holds nothing
// (lib/io/buffered-reader.ts). What must never happen: one reader's bytes overwritten by
// another's read while the first waits, whatever order they suspend and resume in.
import { describe, expect, it } from 'vitest';
import { GreenletExit, sleep, socketpair, spawn } from '../lib';
import type { GreenSocket } from '../lib';
import { run } from './helpers/green';

function pairs(n: number): Array<[GreenSocket, GreenSocket]> {
  return Array.from({ length: n }, () => socketpair());
}

function closeAll(ps: Array<[GreenSocket, GreenSocket]>): void {
  for (const [a, b] of ps) {
    a.close();
    b.close();
  }
}

describe('the shared read buffer', () => {
  it('keeps a partial line of one reader while another reader reads in between', async () => {
    const ps = pairs(2);
    const [[a, aPeer], [b, bPeer]] = ps;
    const got = await run(function* () {
      const lineA = spawn(function* () {
        return (yield* a.readLine()).toString();
      });
      yield* aPeer.sendAll('first half, '); // A reads it, finds no newline, waits for more
      yield* sleep(5);
      yield* bPeer.sendAll('all of B\n'); // B's read would land where A's half was
      const lineB = (yield* b.readLine()).toString();
      yield* aPeer.sendAll('second half\n');
      return [yield* lineA.wait(), lineB];
    });
    expect(got).toEqual(['first half, second half\n', 'all of B\n']);
    closeAll(ps);
  });

  it('keeps bytes read ahead (a second line) while other readers use the buffer', async () => {
    const ps = pairs(3);
    const got = await run(function* () {
      const [[a, aPeer]] = ps;
      yield* aPeer.sendAll('one\ntwo\n'); // one read brings both lines
      const first = (yield* a.readLine()).toString();
      // Other readers read 64 KiB-sized chunks through the shared buffer meanwhile.
      for (const [s, peer] of ps.slice(1)) {
        yield* peer.sendAll(Buffer.alloc(60_000, 'z'));
        yield* peer.sendAll('\n');
        yield* s.readLine({ maxBytes: 100_000 });
      }
      const second = (yield* a.readLine()).toString();
      return [first, second, a.readBufferCapacity];
    });
    // The reader that read ahead got a buffer of its own and keeps it (README: Green I/O).
    expect(got).toEqual(['one\n', 'two\n', 64 * 1024]);
    closeAll(ps);
  });

  it('holds no buffer of its own once a read hands out everything it read', async () => {
    const ps = pairs(1);
    const [[a, aPeer]] = ps;
    const capacity = await run(function* () {
      yield* aPeer.sendAll('GET / HTTP/1.1\r\n\r\n');
      yield* a.readUntil('\r\n\r\n');
      return a.readBufferCapacity;
    });
    expect(capacity).toBe(0);
    closeAll(ps);
  });

  it('keeps interleaved readers apart over many rounds (each reader checks every byte it gets)', async () => {
    const n = 20;
    const ps = pairs(n);
    const bad = await run(function* () {
      let mismatches = 0;
      const readers = ps.map(([s], i) => spawn(function* () {
        for (let round = 0; round < 30; round++) {
          const line = (yield* s.readLine()).toString();
          if (line !== `${i}:${round}:${String(i).repeat(50)}\n`) mismatches++;
        }
      }));
      // Writers send each line in two pieces with a switch between, so readers park mid-line.
      const writers = ps.map(([, peer], i) => spawn(function* () {
        for (let round = 0; round < 30; round++) {
          const line = `${i}:${round}:${String(i).repeat(50)}\n`;
          yield* peer.sendAll(line.slice(0, 7));
          yield* sleep(0);
          yield* peer.sendAll(line.slice(7));
          yield* sleep(0);
        }
      }));
      for (const w of writers) yield* w.wait();
      for (const r of readers) yield* r.wait();
      return mismatches;
    });
    expect(bad).toBe(0);
    closeAll(ps);
  });

  it('leaves nothing behind when a reader is killed while it waits for more of a line', async () => {
    const ps = pairs(2);
    const [[a, aPeer], [b, bPeer]] = ps;
    const got = await run(function* () {
      const victim = spawn(function* () {
        return yield* a.readLine();
      });
      yield* aPeer.sendAll('half a line');
      yield* sleep(5);
      victim.kill();
      yield* bPeer.sendAll('B line\n');
      const lineB = (yield* b.readLine()).toString();
      // The killed read's bytes stay buffered for the next reader of that socket.
      yield* aPeer.sendAll(', the rest\n');
      const lineA = (yield* a.readLine()).toString();
      let killed = '';
      try {
        yield* victim.wait();
      } catch (e) {
        killed = e instanceof GreenletExit ? 'GreenletExit' : String(e);
      }
      return [lineA, lineB, killed];
    });
    expect(got).toEqual(['half a line, the rest\n', 'B line\n', 'GreenletExit']);
    closeAll(ps);
  });
});
