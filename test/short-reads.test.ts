// A short read is not "drained" (lib/hub/fd-table.ts): Linux stops a read short with bytes
// still queued at TCP urgent data, at a Unix message carrying fds, between messages of two
// writers when SO_PASSCRED is on, and at packet boundaries of an O_DIRECT pipe. Every read
// path must go on reading, never park with bytes queued. The hostile peer is
// test/fixtures/fault-peer.py (Debian's python3), on loopback or Unix sockets only.
import { type ChildProcess, spawn as spawnChild, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, sleep } from '../lib';
import type { GreenServer, GreenSocket } from '../lib';
import { K, check, native } from '../lib/native';
import { ROOT, run } from './helpers/green';

const PEER = path.join(__dirname, 'fixtures/fault-peer.py');
const PYTHON = '/usr/bin/python3';
const SO_PASSCRED = (K as unknown as { SO_PASSCRED?: number }).SO_PASSCRED ?? 16;

let peer: ChildProcess | undefined;
let server: GreenServer | undefined;
afterEach(() => {
  peer?.kill();
  peer = undefined;
  server?.close();
  server = undefined;
});

function startPeer(...args: string[]): void {
  peer = spawnChild(PYTHON, [PEER, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Accepts the peer, lets every byte arrive, then reads 'abc' and the rest: what came. */
function readBothParts(prepare?: (sock: GreenSocket) => Generator<unknown, void, unknown>): Promise<string[]> {
  return run(function* () {
    const sock = yield* server!.accept({ timeoutMs: 10_000 });
    try {
      if (prepare) yield* prepare(sock);
      yield* sleep(150); // every byte (and every edge) is in before the first read
      sock.setTimeout(3000); // a reader parked with bytes queued fails here, not by hanging
      const first = (yield* sock.recv(100)).toString();
      const rest = (yield* sock.readLine()).toString();
      return [first, rest];
    } finally {
      sock.close();
    }
  });
}

describe('a short read with bytes still queued', () => {
  it('TCP urgent data (one MSG_OOB byte): the reader gets the bytes behind it, as Node net does', async () => {
    server = listen({ port: 0 });
    startPeer('urgent', String(server.address().port));
    expect(await readBothParts()).toEqual(['abc', 'def\n']);
  });

  it('TCP urgent data, read through toDuplex()', async () => {
    server = listen({ port: 0 });
    startPeer('urgent', String(server.address().port));
    const got = await run(function* () {
      const sock = yield* server!.accept({ timeoutMs: 10_000 });
      yield* sleep(150);
      const duplex = sock.toDuplex();
      const chunks: Buffer[] = [];
      duplex.on('data', (c: Buffer) => chunks.push(c));
      const text = (): string => Buffer.concat(chunks).toString();
      for (let i = 0; i < 300 && !text().includes('\n'); i++) yield* sleep(10);
      duplex.destroy();
      return text();
    });
    expect(got).toBe('abcdef\n');
  });

  it('a Unix message carrying an fd (SCM_RIGHTS)', async () => {
    const p = `/tmp/greenhub-scm-${process.pid}.sock`;
    server = listen({ path: p });
    startPeer('scm-rights', p);
    expect(await readBothParts()).toEqual(['abc', 'def\n']);
  });

  it('SO_PASSCRED on, and two writers (two processes) on one Unix socket', async () => {
    const p = `/tmp/greenhub-cred-${process.pid}.sock`;
    server = listen({ path: p });
    startPeer('passcred', p);
    const got = await readBothParts(function* (sock) {
      check(native.setsockopt(sock.fd, K.SOL_SOCKET, SO_PASSCRED, 1), 'setsockopt');
      yield* sock.sendAll(Buffer.from('g')); // go: the peer writes once it sees this
    });
    expect(got).toEqual(['abc', 'def\n']);
  });

  for (const kind of ['packet-pipe', 'unix-pair']) {
    it(`a GreenFd on ${kind === 'packet-pipe' ? 'an O_DIRECT (packet) pipe' : 'a Unix socket with an fd-carrying message'}`, () => {
      const reader = `
        const { GreenFd, spawn, sleep } = require('./dist');
        spawn(function* () {
          const g = new GreenFd(Number(process.env.FAULT_FD));
          g.setTimeout(3000);
          yield* sleep(50);
          const first = (yield* g.recv(100)).toString();
          const rest = (yield* g.readLine()).toString();
          console.log(JSON.stringify([first, rest]));
          g.close();
        });
      `;
      const r = spawnSync(PYTHON, [PEER, 'fd-child', kind, '--', process.execPath, '-e', reader], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual(['abc', 'def\n']);
    });
  }
});
