// The backdoor (lib/backdoor.ts): a Node REPL per client over a green socket, driven here over
// real loopback TCP and Unix sockets, from greenthreads and from Node's own net.
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backdoor, backdoorServer } from '../lib/backdoor';
import { getHub } from '../lib/hub/hub';
import { type ConnectOptions, connect } from '../lib/io/connect';
import { listen } from '../lib/io/server';
import type { GreenSocket } from '../lib/io/socket';
import { sleep } from '../lib/sleep';
import { spawn } from '../lib/spawn';
import type { Green } from '../lib/types';
import { openFds } from './helpers/fds';
import { endedKilled, run } from './helpers/green';

const PROMPT = 'greenhub> ';
let fdsBefore: number;
let tmp: string;
const reported: unknown[] = [];

beforeEach(() => {
  fdsBefore = openFds().length;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'greenhub-backdoor-'));
  reported.length = 0;
  getHub().onError((e) => reported.push(e));
});
afterEach(() => {
  getHub().onError(null);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function* until(cond: () => boolean, ms = 10_000): Green<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    yield* sleep(5);
  }
}

/** The fds each test opened are closed once it is done (sessions close a turn after their client). */
function* expectNoFdLeak(): Green<void> {
  try {
    yield* until(() => openFds().length === fdsBefore, 5000);
  } catch {
    // the expectation below says what is left
  }
  expect(openFds().length).toBe(fdsBefore);
}

/** A REPL client: what the REPL printed for a line, up to its next prompt. */
class Client {
  constructor(readonly sock: GreenSocket, readonly banner: string) {}
  static *open(to: ConnectOptions, prompt = PROMPT): Green<Client> {
    const sock = yield* connect(to);
    sock.setTimeout(10_000); // a hang fails the test instead of stalling it
    const banner = (yield* sock.readUntil(prompt)).toString();
    return new Client(sock, banner);
  }
  *eval(line: string, prompt = PROMPT): Green<string> {
    yield* this.sock.sendAll(Buffer.from(`${line}\n`));
    const out = (yield* this.sock.readUntil(prompt)).toString();
    return out.endsWith(prompt) ? out.slice(0, -prompt.length) : out;
  }
  /** Reads to the end of the stream: what was left, and that the server closed it. */
  *rest(): Green<string> {
    const chunks: Buffer[] = [];
    for (let c; (c = yield* this.sock.recv()).length > 0; ) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }
}

describe('backdoor', () => {
  it('evaluates expressions over loopback TCP, with dump() and getHub() in its context', async () => {
    const got = await run(function* () {
      const bd = backdoor({ port: 0 });
      const worker = spawn({ name: 'sleepy-worker' }, () => sleep(60_000));
      try {
        const c = yield* Client.open({ host: '127.0.0.1', port: bd.address().port });
        const r = {
          banner: c.banner,
          sum: yield* c.eval('1 + 1'),
          dump: yield* c.eval('dump()'),
          hub: yield* c.eval('getHub().dump().some((g) => g.name === "sleepy-worker")'),
          error: yield* c.eval('throw new Error("boom")'),
          after: yield* c.eval('"still " + "here"'),
        };
        c.sock.close();
        return r;
      } finally {
        worker.kill();
        bd.close();
      }
    });
    expect(got.banner).toMatch(/greenhub backdoor \(pid \d+\).*blocks every greenthread/);
    expect(got.sum).toBe('2\n');
    expect(got.dump).toMatch(/greenhub: \d+ live greenthreads/);
    expect(got.dump).toContain('"sleepy-worker"');
    expect(got.dump).toContain('"backdoor"');
    expect(got.hub).toBe('true\n');
    expect(got.error).toMatch(/Uncaught Error: boom/);
    expect(got.after).toBe("'still here'\n");
    await run(expectNoFdLeak);
    expect(reported).toEqual([]);
  });

  it('puts the user context in every session; each session has its own variables', async () => {
    const got = await run(function* () {
      const shared = { hits: 0 };
      const bd = backdoor({ port: 0, context: { shared, answer: 42 }, prompt: 'app> ' });
      try {
        const to = { host: '127.0.0.1', port: bd.address().port };
        const a = yield* Client.open(to, 'app> ');
        const b = yield* Client.open(to, 'app> ');
        const r = {
          answer: yield* a.eval('answer', 'app> '),
          setA: yield* a.eval('var mine = 5; shared.hits++', 'app> '),
          mineInB: yield* b.eval('typeof mine', 'app> '),
          hitsInB: yield* b.eval('++shared.hits', 'app> '),
          hits: shared.hits,
        };
        a.sock.close();
        b.sock.close();
        return r;
      } finally {
        bd.close();
      }
    });
    expect(got).toEqual({ answer: '42\n', setA: '0\n', mineInB: "'undefined'\n", hitsInB: '2\n', hits: 2 });
    await run(expectNoFdLeak);
  });

  it('serves two clients at once; one disconnecting ends its session only', async () => {
    const got = await run(function* () {
      const bd = backdoor({ port: 0 });
      try {
        const to = { host: '127.0.0.1', port: bd.address().port };
        const a = yield* Client.open(to);
        const b = yield* Client.open(to);
        const sessions = () => getHub().dump().filter((g) => g.name === 'backdoorClient').length;
        const both = sessions();
        a.sock.close();
        yield* until(() => sessions() === 1);
        const bStill = yield* b.eval('6 * 7');
        const exit = yield* b.sock.sendAll(Buffer.from('.exit\n'));
        const rest = yield* b.rest(); // .exit ends the session: the server closes the socket
        b.sock.close();
        yield* until(() => sessions() === 0);
        return { both, bStill, exit, rest };
      } finally {
        bd.close();
      }
    });
    expect(got).toEqual({ both: 2, bStill: '42\n', exit: undefined, rest: '' });
    await run(expectNoFdLeak);
  });

  it('close() ends every session (clients see end of stream), refuses new ones, and is idempotent', async () => {
    const got = await run(function* () {
      const bd = backdoor({ port: 0 });
      const port = bd.address().port;
      const a = yield* Client.open({ host: '127.0.0.1', port });
      const b = yield* Client.open({ host: '127.0.0.1', port });
      bd.close();
      bd.close();
      const r = { closed: bd.closed, a: yield* a.rest(), b: yield* b.rest(), sessions: getHub().dump().filter((g) => g.name === 'backdoorClient' || g.name === 'backdoor').length };
      a.sock.close();
      b.sock.close();
      let refused: string | undefined;
      try {
        (yield* connect({ host: '127.0.0.1', port })).close();
      } catch (e) {
        refused = (e as { code?: string }).code;
      }
      return { ...r, refused };
    });
    expect(got).toEqual({ closed: true, a: '', b: '', sessions: 0, refused: 'ECONNREFUSED' });
    await run(expectNoFdLeak);
  });

  it('listens on a Unix socket made 0600, and removes it on close', async () => {
    const sockPath = path.join(tmp, 'bd.sock');
    const got = await run(function* () {
      const bd = backdoor({ path: sockPath });
      const mode = fs.statSync(sockPath).mode & 0o777;
      const c = yield* Client.open({ path: sockPath });
      const r = { address: bd.address(), mode, v: yield* c.eval('[1, 2].map((x) => x * 2)') };
      c.sock.close();
      bd.close();
      return { ...r, exists: fs.existsSync(sockPath) };
    });
    expect(got).toEqual({ address: { address: sockPath, family: 'Unix', port: 0 }, mode: 0o600, v: '[ 2, 4 ]\n', exists: false });
    await run(expectNoFdLeak);
  });

  it('creates its Unix socket owner-only from the start (not only after a chmod), and refuses an abstract socket', async () => {
    // Without the chmod, the file's mode comes from bind() alone: it must already be 0600,
    // whatever the umask, or a local user could connect before the chmod.
    const sockPath = path.join(tmp, 'bd-umask.sock');
    const cjsFs = createRequire(path.join(process.cwd(), 'noop.js'))('node:fs') as typeof fs;
    const realChmod = cjsFs.chmodSync;
    const oldUmask = process.umask(0);
    cjsFs.chmodSync = () => {};
    syncBuiltinESMExports();
    let mode = -1;
    try {
      const bd = backdoor({ path: sockPath });
      mode = fs.statSync(sockPath).mode & 0o777;
      bd.close();
    } finally {
      cjsFs.chmodSync = realChmod;
      syncBuiltinESMExports();
      process.umask(oldUmask);
    }
    expect(mode).toBe(0o600);
    expect(process.umask()).toBe(oldUmask); // restored
    expect(() => backdoor({ path: '\0greenhub-backdoor-test' })).toThrow(/abstract Unix socket.*any local user/);
    await run(expectNoFdLeak);
  });

  it('refuses a non-loopback host unless allowRemote: true', async () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3']) {
      expect(() => backdoor({ port: 0, host })).toThrow(RangeError);
    }
    expect(() => backdoor({ port: 0, host: '0.0.0.0' })).toThrow(/not a loopback address.*allowRemote: true/);
    const loop6 = backdoor({ port: 0, host: '::1' });
    expect(loop6.address().family).toBe('IPv6');
    loop6.close();
    const remote = backdoor({ port: 0, host: '0.0.0.0', allowRemote: true });
    expect(remote.address().address).toBe('0.0.0.0');
    remote.close();
    // backdoorServer checks the server it is given, at the call.
    const server = listen({ host: '0.0.0.0', port: 0 });
    await run(function* () {
      expect(() => backdoorServer(server)).toThrow(RangeError);
    });
    server.close();
    await run(expectNoFdLeak);
  });

  it('checks its options', () => {
    expect(() => backdoor(undefined as never)).toThrow(/either \{ path \}.*neither/);
    expect(() => backdoor({})).toThrow(/neither/);
    expect(() => backdoor({ port: 0, path: '/tmp/x' })).toThrow(/both/);
    expect(() => backdoor({ path: '/tmp/x', host: '127.0.0.1' })).toThrow(/host goes with port/);
    expect(() => backdoor({ port: 0, context: 5 as never })).toThrow(/context must be an object/);
    expect(() => backdoor({ port: 0, prompt: 1 as never })).toThrow(/prompt must be a string/);
    expect(() => backdoor({ port: 0, allowremote: true } as never)).toThrow(/unknown option/);
    expect(() => backdoor({ port: 0, host: 'localhost' })).toThrow(/IP address literal/);
    expect(() => backdoor({ port: 70000 })).toThrow(RangeError);
    expect(openFds().length).toBe(fdsBefore);
  });

  it("backdoorServer runs in the caller's greenthread until the server closes; killing it ends its sessions", async () => {
    const got = await run(function* () {
      const server = listen({ port: 0 });
      const loop = spawn(() => backdoorServer(server, { context: { x: 'served' } }));
      const c = yield* Client.open({ host: '127.0.0.1', port: server.address().port });
      const v = yield* c.eval('x');
      loop.kill();
      const killed = yield* endedKilled(loop);
      const rest = yield* c.rest();
      c.sock.close();
      server.close();
      return { v, killed, rest };
    });
    expect(got).toEqual({ v: "'served'\n", killed: true, rest: '' });
    await run(expectNoFdLeak);
  });

  it('twenty sessions in turn leave nothing behind: no greenthread, no fd, no process listener', async () => {
    const listeners = () => process.eventNames().map((e) => `${String(e)}:${process.listenerCount(e)}`).sort();
    const before = listeners();
    const got = await run(function* () {
      const bd = backdoor({ port: 0 });
      const port = bd.address().port;
      const values: string[] = [];
      for (let i = 0; i < 20; i++) {
        const c = yield* Client.open({ host: '127.0.0.1', port });
        values.push(yield* c.eval(`${i} * 2`));
        c.sock.close();
      }
      yield* until(() => !getHub().dump().some((g) => g.name === 'backdoorClient' || g.name.startsWith('duplex')));
      bd.close();
      return { values: values.length, last: values[19], live: getHub().dump().map((g) => g.name).filter((n) => n !== 'run') };
    });
    expect(got.values).toBe(20);
    expect(got.last).toBe('38\n');
    expect(got.live.filter((n) => n === 'backdoor' || n === 'backdoorClient' || n.startsWith('duplex'))).toEqual([]);
    expect(listeners()).toEqual(before);
    await run(expectNoFdLeak);
  });

  it("works with Node's own net client (what nc and socat are), and does not hold the process open", async () => {
    const bd = backdoor({ port: 0 });
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect(bd.address().port, '127.0.0.1');
      let buf = '';
      let sent = false;
      s.on('data', (d) => {
        buf += d.toString();
        if (!sent && buf.endsWith(PROMPT)) {
          sent = true;
          s.write('2 ** 10\n.exit\n');
        }
      });
      s.on('end', () => resolve(buf));
      s.on('error', reject);
    });
    expect(text).toMatch(/greenhub> 1024\n/);
    bd.close();
    await run(expectNoFdLeak);
  });
});
