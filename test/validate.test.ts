// Option bags (lib/validate.ts): a key greenhub does not know — a typo — is a TypeError that
// names the bag, the known options and the key, at the call, for every public entry point.
import { describe, expect, it } from 'vitest';
import {
  Event, GreenFd, Lock, Poller, PriorityQueue, Queue, connect, detectBlocking, listen, local, loopingCall, pipe,
  serve, spawn, tpool, trampoline, udpSocket,
} from '../lib';
import { run, thrown } from './helpers/green';


describe('unknown option keys', () => {
  it('are a TypeError naming the bag, the options it has and the typo, for plain calls', () => {
    expect(thrown(() => listen({ prot: 80 } as never))).toBe(
      "TypeError: listen options: unknown option (a typo?); the options are host, port, path, backlog, reusePort, got 'prot'",
    );
    expect(thrown(() => spawn({ nmae: 'x' } as never, function* () {}))).toMatch(/^TypeError: spawn options: .*got 'nmae'$/);
    expect(thrown(() => udpSocket({ bind: { prt: 1 } } as never))).toMatch(/^TypeError: bind: .*got 'prt'$/);
    expect(thrown(() => new Poller({ max: 1 } as never))).toMatch(/^TypeError: Poller options: .*got 'max'$/);
    expect(thrown(() => new PriorityQueue({ size: 1 } as never))).toMatch(/^TypeError: PriorityQueue options: .*got 'size'$/);
    expect(thrown(() => local({ inherits: true } as never))).toMatch(/^TypeError: local options: .*got 'inherits'$/);
    expect(thrown(() => loopingCall(() => {}, { interval: 5 } as never))).toMatch(/^TypeError: loopingCall options: .*got 'interval'$/);
    expect(thrown(() => detectBlocking({ threshold: 5 } as never))).toMatch(/^TypeError: detectBlocking options: .*got 'threshold'$/);
    expect(thrown(() => tpool.configure({ threads: 2 } as never))).toMatch(/^TypeError: tpool.configure options: .*got 'threads'$/);
    const [r, w] = pipe();
    expect(thrown(() => new GreenFd(r.fd, { closes: false } as never))).toMatch(/^TypeError: GreenFd options: .*got 'closes'$/);
    r.close();
    w.close();
  });

  it('are a TypeError at the call for blocking operations too, before anything runs', async () => {
    const server = listen({ port: 0 });
    const [r, w] = pipe();
    const errors = await run(function* () {
      return [
        thrown(() => connect({ host: '127.0.0.1', port: 1, timeout: 5 } as never)),
        thrown(() => connect({ port: 1 }, { timeout: 5 } as never)),
        thrown(() => server.accept({ timeout: 5 } as never)),
        thrown(() => serve(server, function* () {}, { concurency: 5 } as never)),
        thrown(() => trampoline(r.fd, { read: true, timeout: 5 } as never)),
        thrown(() => new Event().wait({ timeout: 5 } as never)),
        thrown(() => new Lock().acquire({ timeout: 5 } as never)),
        thrown(() => new Queue().get({ timeout: 5 } as never)),
        thrown(() => r.readLine({ max: 5 } as never)),
      ];
    });
    server.close();
    r.close();
    w.close();
    for (const e of errors) expect(e).toMatch(/^TypeError: .*: unknown option \(a typo\?\); the options are .*, got '\w+'$/);
  });

  it('still accept undefined, and reject a non-object bag with what it got', () => {
    const s = listen(undefined);
    s.close();
    expect(thrown(() => listen(null as never))).toBe('TypeError: listen options must be an object, got null');
    expect(thrown(() => listen([] as never))).toBe('TypeError: listen options must be an object, got an array');
  });
});
