// Helpers for socket tests: payloads with checksums, Node net peers.
import { createHash, randomBytes } from 'node:crypto';

/** Sizes from 1 byte to max, spread evenly on a log scale (deterministic by index). */
export function logSize(i: number, n: number, max = 1 << 20): number {
  return Math.max(1, Math.round(Math.exp((Math.log(max) * ((i * 7919) % n)) / Math.max(1, n - 1))));
}

export function payload(size: number): Buffer {
  return randomBytes(size);
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

import { connect, spawn } from '../../lib';
import type { Green, GreenServer, GreenSocket } from '../../lib';

/** A connected pair on a listening server: [the client's socket, the server's]. */
export function* connectedPair(server: GreenServer): Green<[GreenSocket, GreenSocket]> {
  const peer = spawn(function* () {
    return yield* server.accept();
  });
  const client = yield* connect({ host: '127.0.0.1', port: server.address().port });
  return [client, yield* peer.wait()];
}
