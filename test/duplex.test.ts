// GreenSocket.toDuplex (lib/io/duplex.ts): Node streams over green sockets.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { connect, listen, sleep, spawn, waitFor } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('toDuplex', () => {
  it('pipeline delivers a 100 MiB file intact to a slow reader, and backpressure bounds the sender\'s memory', async () => {
    const file = path.join(os.tmpdir(), `greenhub-duplex-${process.pid}.bin`);
    const size = 100 << 20;
    {
      const fd = fs.openSync(file, 'w');
      const block = Buffer.alloc(1 << 20);
      for (let i = 0; i < 100; i++) {
        block.fill(i & 0xff);
        block.writeUInt32BE(i, 0);
        fs.writeSync(fd, block);
      }
      fs.closeSync(fd);
    }
    const expected = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const server = listen({ port: 0 });
    const port = server.address().port;
    try {
      const reader = spawn(function* (): Green<{ bytes: number; sha: string }> {
        const conn = yield* server.accept();
        const hash = createHash('sha256');
        const buf = Buffer.allocUnsafe(256 * 1024);
        let bytes = 0;
        for (;;) {
          const n = yield* conn.recvInto(buf);
          if (n === 0) break;
          hash.update(buf.subarray(0, n));
          bytes += n;
          if (bytes % (1 << 20) < n) yield* sleep(5); // a slow reader: about 0.5 s for 100 MiB
        }
        conn.close();
        return { bytes, sha: hash.digest('hex') };
      });
      const before = process.memoryUsage().heapUsed;
      let peakHeap = before;
      let peakQueued = 0; // bytes waiting in the Duplex and the file stream: what backpressure bounds
      let sampler: NodeJS.Timeout | undefined;
      await run(function* () {
        const sock = yield* connect({ host: '127.0.0.1', port });
        const source = fs.createReadStream(file);
        const duplex = sock.toDuplex();
        sampler = setInterval(() => {
          peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
          peakQueued = Math.max(peakQueued, duplex.writableLength + source.readableLength);
        }, 2);
        yield* waitFor(pipeline(source, duplex));
        duplex.destroy(); // its readable side was never read: closing it is ours to do
      });
      const got = await reader;
      clearInterval(sampler);
      expect(got.bytes).toBe(size);
      expect(got.sha).toBe(expected);
      expect(peakHeap - before).toBeLessThan(10 << 20);
      expect(peakQueued).toBeLessThanOrEqual(256 << 10); // the streams' high-water marks, not 100 MiB
    } finally {
      server.close();
      fs.rmSync(file, { force: true });
    }
  });

  it('reads through the stream API, half-closes on end(), and passes errors on', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      spawn(function* () {
        const c = yield* server.accept();
        yield* c.sendAll(Buffer.from('hello from the green side\n'));
        const rest = yield* c.readUntil('!'); // arrives after the duplex's end()
        yield* c.sendAll(Buffer.from(`got ${rest.toString()}`));
        c.close();
      });
      const sock = yield* connect({ host: '127.0.0.1', port });
      const d = sock.toDuplex();
      const chunks: Buffer[] = [];
      d.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((resolve) => d.once('end', resolve));
      d.end('bye!');
      yield* waitFor(ended);
      // Both sides ended: the stream destroys itself (autoDestroy), closing the socket.
      if (!d.closed) yield* waitFor(new Promise<void>((resolve) => d.once('close', resolve)));
      return { text: Buffer.concat(chunks).toString(), sockClosed: sock.closed };
    });
    server.close();
    expect(r).toEqual({ text: 'hello from the green side\ngot bye!', sockClosed: true });
  });
});
