// GreenSocket.fromFd and listenFd (lib/io/adopt.ts)
import { spawn as spawnProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GreenSocket, connect, listenFd, pipe, spawn } from '../lib';
import { K, check, native } from '../lib/native';
import { run } from './helpers/green';

describe('GreenSocket.fromFd', () => {
  it('adopts one end of a socket pair Node created, echoes over it, and closes the fd once', async () => {
    const child = spawnProcess(process.execPath, [path.join(__dirname, 'fixtures', 'adopt-child.js')], {
      stdio: ['ignore', 'inherit', 'pipe', 'pipe'],
    });
    const sock = child.stdio[3] as Socket;
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.write('hello over an adopted fd\n');
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(answer).toBe('echo: hello over an adopted fd\n');
    expect(JSON.parse(err.trim())).toEqual({ closed: true });
  });

  it('refuses what is not a connected stream socket, before touching it', () => {
    const [r, w] = pipe();
    expect(() => GreenSocket.fromFd(r.fd)).toThrow(/not a socket/);
    r.close();
    w.close();
    const file = fs.openSync(__filename, 'r');
    expect(() => GreenSocket.fromFd(file)).toThrow(/not a socket/);
    fs.closeSync(file);
    const udp = check(native.socket(K.AF_INET, K.SOCK_DGRAM), 'socket');
    expect(() => GreenSocket.fromFd(udp)).toThrow(/not a stream socket/);
    native.close(udp);
    expect(() => GreenSocket.fromFd(-1)).toThrow(RangeError);
    expect(() => GreenSocket.fromFd(987_654)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('listenFd', () => {
  it('adopts a listening socket and serves connections on it', async () => {
    const fd = check(native.socket(K.AF_INET, K.SOCK_STREAM), 'socket');
    check(native.bind(fd, K.AF_INET, '127.0.0.1', 0), 'bind');
    check(native.listen(fd, 16), 'listen');
    expect(() => GreenSocket.fromFd(fd)).toThrow(/listening socket/);
    const server = listenFd(fd);
    const port = server.address().port;
    const got = await run(function* () {
      spawn(function* () {
        const c = yield* server.accept();
        yield* c.sendAll(yield* c.readLine());
        c.close();
      });
      const s = yield* connect({ host: '127.0.0.1', port });
      yield* s.sendAll(Buffer.from('adopted listener\n'));
      const line = (yield* s.readLine()).toString();
      s.close();
      return line;
    });
    server.close();
    expect(got).toBe('adopted listener\n');
    expect(native.close(fd)).toBe(-9); // closed by server.close(), once
  });
});
