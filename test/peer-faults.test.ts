// Every read path against the same hostile peer (test/helpers/peer-faults.ts): data then a
// half-close ends in the data and end of stream; data then a reset ends in ECONNRESET, never a
// hang; a peer that stalls mid-line ends in the reader's own TimeoutError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../lib';
import { run } from './helpers/green';
import { type TlsKeys, makeTlsKeys } from './helpers/tls-keys';
import { PATHS, openPath } from './helpers/peer-faults';

let keys: TlsKeys & { remove(): void };
beforeAll(() => {
  keys = makeTlsKeys();
});
afterAll(() => keys.remove());

for (const kind of PATHS) {
  describe(`${kind} against a hostile peer`, () => {
    it('data then a half-close: every byte, then end of stream', async () => {
      const seen = await run(function* () {
        const p = yield* openPath(kind, keys);
        try {
          p.setTimeout(5000);
          p.peer.send('hello\nworld');
          yield* sleep(10);
          p.peer.halfClose();
          return yield* p.readToEnd();
        } finally {
          p.cleanup();
        }
      });
      expect(seen).toEqual({ data: 'hello\nworld', end: 'eof' });
    });

    it('a reset: ends in ECONNRESET (after whatever data came first), never a hang', async () => {
      const seen = await run(function* () {
        const p = yield* openPath(kind, keys);
        try {
          p.setTimeout(5000);
          p.peer.send('partial');
          yield* sleep(10);
          p.peer.reset();
          return yield* p.readToEnd();
        } finally {
          p.cleanup();
        }
      });
      expect(seen.end).toBe('ECONNRESET');
      expect('partial'.startsWith(seen.data)).toBe(true);
    });

    it('a stall mid-line: the reader\'s own timeout ends it with TimeoutError', async () => {
      const seen = await run(function* () {
        const p = yield* openPath(kind, keys);
        try {
          p.setTimeout(50);
          p.peer.send('half a li');
          return yield* p.readToEnd();
        } finally {
          p.cleanup();
        }
      });
      expect(seen).toEqual({ data: 'half a li', end: 'ETIMEDOUT' });
    });
  });
}
