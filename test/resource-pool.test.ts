// ResourcePool (lib/sync/resource-pool.ts)
import { describe, expect, it } from 'vitest';
import { GreenletExit, TimeoutError, connect, getHub, listen, sleep, spawn } from '../lib';
import type { Green, GreenSocket, GreenThread } from '../lib';
import { ResourcePool } from '../lib/sync/resource-pool';
import { catching, run } from './helpers/green';

/** A pool of numbered objects; records what it created and destroyed. */
function counting(opts: { max?: number; min?: number; idleMs?: number; validate?: (r: { id: number }) => boolean } = {}) {
  const created: number[] = [];
  const destroyed: number[] = [];
  let n = 0;
  const pool = new ResourcePool<{ id: number }>({
    create: () => {
      const r = { id: ++n };
      created.push(r.id);
      return r;
    },
    destroy: (r) => {
      destroyed.push(r.id);
    },
    ...opts,
  });
  return { pool, created, destroyed };
}

describe('ResourcePool: get and put', () => {
  it('creates on demand up to max, then queues getters in FIFO order; put hands to the first', async () => {
    const { pool, created } = counting({ max: 2 });
    const order: string[] = [];
    await run(function* () {
      const a = yield* pool.get();
      const b = yield* pool.get();
      expect(created).toEqual([1, 2]);
      expect(pool.size).toBe(2);
      const getters = [1, 2, 3].map((i) =>
        spawn(function* () {
          const r = yield* pool.get();
          order.push(`g${i}<-${r.id}`);
          yield* sleep(1);
          pool.put(r);
        }),
      );
      yield* sleep(0);
      expect(pool.waiting()).toBe(3);
      pool.put(b);
      pool.put(a);
      for (const g of getters) yield* g.wait();
      expect(created).toEqual([1, 2]); // nothing created past max
    });
    expect(order).toEqual(['g1<-2', 'g2<-1', 'g3<-2']);
    expect(pool.free()).toBe(2);
    expect(pool.waiting()).toBe(0);
  });

  it('a create that returns nothing (a forgotten return) is a TypeError, and its slot is not lost', async () => {
    let n = 0;
    const pool = new ResourcePool<{ id: number }>({ max: 1, create: () => (n++ === 0 ? (undefined as never) : { id: n }) });
    const r = await run(function* () {
      let first = '';
      try {
        yield* pool.get({ timeoutMs: 1000 });
      } catch (e) {
        first = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const res = yield* pool.get({ timeoutMs: 1000 }); // the one slot is free again
      pool.put(res);
      return { first, res, size: pool.size, free: pool.free() };
    });
    expect(r.first).toMatch(/^TypeError: .*create\(\) must return a resource.*return. missing/);
    expect(r).toMatchObject({ res: { id: 2 }, size: 1, free: 1 });
  });

  it('reuses the most recently returned idle resource (LIFO)', async () => {
    const { pool } = counting({ max: 3 });
    await run(function* () {
      const [a, b, c] = [yield* pool.get(), yield* pool.get(), yield* pool.get()];
      pool.put(a);
      pool.put(c);
      pool.put(b);
      expect((yield* pool.get()).id).toBe(b.id);
    });
  });

  it('counts creates in flight against max', async () => {
    let creates = 0;
    const pool = new ResourcePool({
      *create() {
        creates++;
        yield* sleep(5);
        return { id: creates };
      },
      max: 2,
    });
    await run(function* () {
      const gts = [0, 1, 2].map(() => spawn(() => pool.get()));
      yield* sleep(1);
      expect(creates).toBe(2); // the third waits, it does not create
      expect(pool.waiting()).toBe(1);
      const [r1, r2] = [yield* gts[0].wait(), yield* gts[1].wait()];
      pool.put(r1);
      expect(yield* gts[2].wait()).toBe(r1);
      pool.put(r1);
      pool.put(r2);
    });
    expect(creates).toBe(2);
  });

  it('get({ timeoutMs }) throws TimeoutError and takes nothing', async () => {
    const { pool } = counting({ max: 1 });
    await run(function* () {
      const a = yield* pool.get();
      const t0 = performance.now();
      const err = yield* catching(pool.get({ timeoutMs: 20 }));
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).code).toBe('ETIMEDOUT');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
      expect(pool.waiting()).toBe(0);
      expect(yield* catching(pool.get({ timeoutMs: 0 }))).toBeInstanceOf(TimeoutError);
      pool.put(a);
      expect(yield* pool.get({ timeoutMs: 0 })).toBe(a); // an idle one needs no wait
    });
  });

  it('timeoutMs also bounds a create that hangs; its slot is released', async () => {
    let calls = 0;
    const pool = new ResourcePool({
      *create() {
        if (++calls === 1) yield* sleep(10_000);
        return { calls };
      },
      max: 1,
    });
    await run(function* () {
      expect(yield* catching(pool.get({ timeoutMs: 10 }))).toBeInstanceOf(TimeoutError);
      expect(pool.size).toBe(0);
      expect((yield* pool.get({ timeoutMs: 1000 })).calls).toBe(2);
    });
  });

  it('put of a foreign object or a double put is a coded error', async () => {
    const { pool } = counting();
    await run(function* () {
      const a = yield* pool.get();
      expect(() => pool.put({ id: 99 })).toThrow(expect.objectContaining({ code: 'ERR_POOL_FOREIGN' }));
      pool.put(a);
      expect(() => pool.put(a)).toThrow(expect.objectContaining({ code: 'ERR_POOL_DOUBLE_PUT' }));
      expect(() => pool.discard(a)).toThrow(/already put back/);
    });
  });
});

describe('ResourcePool: create', () => {
  it('create may be a plain function, a generator function or return a promise', async () => {
    const plain = new ResourcePool({ create: () => 'plain' });
    const gen = new ResourcePool({
      *create() {
        yield* sleep(1);
        return 'gen';
      },
    });
    const promised = new ResourcePool({ create: () => new Promise<string>((r) => setTimeout(() => r('promise'), 2)) });
    const iterable = new ResourcePool({ create: () => ['an', 'array'] }); // a resource, not an operation
    const got = await run(function* () {
      return [yield* plain.get(), yield* gen.get(), yield* promised.get(), yield* iterable.get()];
    });
    expect(got).toEqual(['plain', 'gen', 'promise', ['an', 'array']]);
  });

  it('a create that throws gives its error to that getter and releases its slot', async () => {
    let calls = 0;
    const pool = new ResourcePool({
      *create() {
        yield* sleep(1);
        if (++calls === 1) throw new Error('ECONNREFUSED-ish');
        return 'ok';
      },
      max: 1,
    });
    await run(function* () {
      const first = spawn(() => pool.get());
      yield* sleep(0); // first is creating
      const second = spawn(() => pool.get());
      yield* sleep(0);
      expect(pool.waiting()).toBe(1);
      const err = yield* catching(first.wait());
      expect((err as Error).message).toBe('ECONNREFUSED-ish');
      // The freed slot went to the waiter: it creates and succeeds.
      expect(yield* second.wait()).toBe('ok');
      expect(pool.size).toBe(1);
    });
  });

  it('a getter killed while create runs releases the slot to the next getter', async () => {
    let calls = 0;
    let finished = 0;
    const pool = new ResourcePool({
      *create() {
        calls++;
        try {
          yield* sleep(calls === 1 ? 10_000 : 1);
        } finally {
          finished++;
        }
        return calls;
      },
      max: 1,
    });
    await run(function* () {
      const first = spawn(() => pool.get());
      const second = spawn(() => pool.get());
      yield* sleep(1);
      expect(pool.waiting()).toBe(1);
      first.kill();
      expect(finished).toBe(1); // create's finally ran
      expect(yield* second.wait()).toBe(2);
      expect(pool.size).toBe(1);
    });
  });

  it('a getter killed while a promise create is pending: the late resource is destroyed, not leaked', async () => {
    const destroyed: string[] = [];
    let resolve!: (v: string) => void;
    const pool = new ResourcePool<string>({
      create: () => new Promise<string>((r) => (resolve = r)),
      destroy: (r) => void destroyed.push(r),
      max: 1,
    });
    const getter = spawn(() => pool.get());
    await new Promise((r) => setTimeout(r, 5));
    getter.kill();
    resolve('late');
    await new Promise((r) => setTimeout(r, 5));
    expect(destroyed).toEqual(['late']);
    expect(pool.size).toBe(0);
  });
});

describe('ResourcePool: kills while waiting', () => {
  it('a getter killed while waiting loses nothing and takes nothing', async () => {
    const { pool, created } = counting({ max: 1 });
    await run(function* () {
      const a = yield* pool.get();
      const doomed = spawn(() => pool.get());
      const next = spawn(() => pool.get());
      yield* sleep(0);
      expect(pool.waiting()).toBe(2);
      doomed.kill();
      expect(pool.waiting()).toBe(1);
      pool.put(a);
      expect(yield* next.wait()).toBe(a);
      expect(created).toEqual([1]);
    });
  });

  it('a getter killed after it was handed a resource gives it back to the next getter', async () => {
    const { pool } = counting({ max: 1 });
    await run(function* () {
      const a = yield* pool.get();
      const doomed = spawn(function* () {
        yield* pool.get();
        throw new Error('must not get here');
      });
      const next = spawn(() => pool.get());
      yield* sleep(0);
      pool.put(a); // handed to doomed, which has not resumed
      doomed.kill();
      expect(yield* next.wait()).toBe(a);
      pool.put(a);
      // …or idle when nobody else waits
      const b = yield* pool.get();
      const lone = spawn(() => pool.get());
      yield* sleep(0);
      pool.put(b);
      lone.kill();
      expect(pool.free()).toBe(1);
    });
  });

  it('a getter killed after it was handed a slot passes the slot on', async () => {
    const { pool, created, destroyed } = counting({ max: 1 });
    await run(function* () {
      const a = yield* pool.get();
      const doomed = spawn(() => pool.get());
      const next = spawn(() => pool.get());
      yield* sleep(0);
      pool.discard(a); // frees a slot: handed to doomed as a right to create
      doomed.kill();
      expect((yield* next.wait()).id).toBe(2);
      expect(created).toEqual([1, 2]);
    });
    expect(destroyed).toEqual([1]);
  });
});

describe('ResourcePool: validate', () => {
  it('an idle resource that fails validate is destroyed and another tried', async () => {
    const bad = new Set<number>();
    const { pool, destroyed } = counting({ max: 3, validate: (r) => !bad.has(r.id) });
    await run(function* () {
      const [a, b] = [yield* pool.get(), yield* pool.get()];
      pool.put(a);
      pool.put(b);
      bad.add(b.id); // b is tried first (LIFO), then a
      expect(yield* pool.get()).toBe(a);
      bad.add(a.id);
      pool.put(a);
      expect((yield* pool.get()).id).toBe(3); // none valid: a new one (not validated)
      yield* sleep(0);
      expect(destroyed).toEqual([2, 1]);
    });
  });

  it('a validate that throws destroys the resource and the error goes to the getter', async () => {
    const destroyed: number[] = [];
    const pool = new ResourcePool<number>({
      create: () => 7,
      destroy: (r) => void destroyed.push(r),
      *validate() {
        yield* sleep(0);
        throw new Error('ping failed');
      },
    });
    await run(function* () {
      pool.put(yield* pool.get());
      expect(((yield* catching(pool.get())) as Error).message).toBe('ping failed');
      expect(pool.size).toBe(0);
      yield* sleep(0);
      expect(destroyed).toEqual([7]);
    });
  });
});

describe('ResourcePool: validate, killed', () => {
  it('a getter killed while validate runs: the resource is destroyed and its slot goes to the next getter', async () => {
    const destroyed: number[] = [];
    let n = 0;
    const pool = new ResourcePool<number>({
      create: () => ++n,
      destroy: (r) => void destroyed.push(r),
      *validate() {
        yield* sleep(10_000);
        return true;
      },
      max: 1,
    });
    await run(function* () {
      pool.put(yield* pool.get());
      const doomed = spawn(() => pool.get()); // validating the idle one
      yield* sleep(0);
      const next = spawn(() => pool.get());
      yield* sleep(0);
      expect(pool.waiting()).toBe(1);
      doomed.kill();
      expect(yield* next.wait()).toBe(2); // created on the freed slot (not validated)
      yield* sleep(0);
      expect(destroyed).toEqual([1]);
    });
  });
});

describe('ResourcePool: use', () => {
  it('gives the resource back on return and on error; discardOnError destroys it', async () => {
    const { pool, destroyed } = counting({ max: 1 });
    await run(function* () {
      expect(yield* pool.use(function* (r) {
        yield* sleep(0);
        return r.id * 10;
      })).toBe(10);
      expect(pool.free()).toBe(1);
      expect(((yield* catching(pool.use(() => { throw new Error('kept'); }))) as Error).message).toBe('kept');
      expect(pool.free()).toBe(1);
      expect(((yield* catching(pool.use(() => { throw new Error('gone'); }, { discardOnError: true }))) as Error).message).toBe('gone');
      expect(pool.size).toBe(0);
      expect(yield* pool.use((r) => Promise.resolve(r.id))).toBe(2);
      yield* sleep(0);
    });
    expect(destroyed).toEqual([1]);
  });

  it('a kill inside use() with discardOnError destroys the resource; without it, puts it back', async () => {
    const { pool, destroyed } = counting({ max: 2 });
    await run(function* () {
      const a = spawn(() => pool.use(() => sleep(10_000), { discardOnError: true }));
      const b = spawn(() => pool.use(() => sleep(10_000)));
      yield* sleep(1);
      expect(pool.free()).toBe(0);
      a.kill();
      b.kill();
      yield* sleep(0);
      expect(destroyed).toEqual([1]);
      expect(pool.size).toBe(1);
      expect(pool.free()).toBe(1);
    });
  });

  it('fn that puts or discards the resource itself is not an error', async () => {
    const { pool } = counting();
    await run(function* () {
      yield* pool.use((r) => pool.put(r));
      expect(pool.size).toBe(1);
      yield* pool.use((r) => pool.discard(r), { discardOnError: true });
      expect(pool.size).toBe(0);
    });
  });
});

describe('ResourcePool: idle expiry and drain', () => {
  it('idleMs destroys idle resources above min, and its timer never holds the process', async () => {
    const { pool, destroyed } = counting({ max: 4, min: 1, idleMs: 100 });
    const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const before = timers();
    await run(function* () {
      const rs = [yield* pool.get(), yield* pool.get(), yield* pool.get()];
      const t0 = performance.now();
      for (const r of rs) pool.put(r);
      expect(timers()).toBeLessThanOrEqual(before); // unref'd: no timer of ours holds the process
      yield* sleep(0);
      expect(destroyed).toEqual([]);
      while (pool.size > 1 && performance.now() - t0 < 5000) yield* sleep(10);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
      yield* sleep(0);
      expect(pool.size).toBe(1); // min kept
      expect(destroyed.sort()).toEqual([1, 2]); // the oldest idle ones; 3 was put back last
      expect(timers()).toBeLessThanOrEqual(before);
    });
  });

  it('drain: idle destroyed at once, waiters refused, in-use destroyed when put back', async () => {
    const { pool, destroyed } = counting({ max: 2 });
    await run(function* () {
      const a = yield* pool.get();
      pool.put(yield* pool.get()); // one idle
      const user = spawn(function* () {
        const b = yield* pool.get();
        yield* sleep(5);
        pool.put(b);
      });
      yield* sleep(0);
      const waiter = spawn(() => pool.get());
      yield* sleep(0);
      expect(pool.waiting()).toBe(1);
      const drainer = spawn(() => pool.drain());
      yield* sleep(0);
      expect(yield* catching(waiter.wait())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
      expect(yield* catching(pool.get())).toMatchObject({ code: 'ERR_POOL_CLOSED' });
      expect(drainer.dead).toBe(false);
      yield* user.wait();
      expect(drainer.dead).toBe(false); // a is still out
      pool.put(a);
      yield* drainer.wait();
      expect(pool.size).toBe(0);
      expect(destroyed.sort()).toEqual([1, 2]);
      yield* pool.drain(); // again: at once
    });
  });

  it('drain({ timeoutMs }) throws TimeoutError while resources stay out', async () => {
    const { pool } = counting();
    await run(function* () {
      const a = yield* pool.get();
      expect(yield* catching(pool.drain({ timeoutMs: 5 }))).toBeInstanceOf(TimeoutError);
      pool.put(a);
      yield* pool.drain({ timeoutMs: 1000 });
    });
  });
});

describe('ResourcePool: misuse', () => {
  it('rejects bad options and bad calls', async () => {
    const create = () => 1;
    expect(() => new ResourcePool(undefined as never)).toThrow(TypeError);
    expect(() => new ResourcePool({ create, maxx: 3 } as never)).toThrow(/unknown option/);
    expect(() => new ResourcePool({ create, max: 0 })).toThrow(RangeError);
    expect(() => new ResourcePool({ create, max: 2, min: 3 })).toThrow(RangeError);
    expect(() => new ResourcePool({ create: 5 as never })).toThrow(TypeError);
    expect(() => new ResourcePool({ create, idleMs: -1 })).toThrow(RangeError);
    const pool = new ResourcePool({ create });
    expect(() => pool.get()).toThrow(/inside a greenthread/);
    await run(function* () {
      expect(() => pool.get({ timeoutMs: -1 })).toThrow(RangeError);
      expect(() => pool.use(5 as never)).toThrow(TypeError);
      expect(() => pool.use(create, { discardOnErr: true } as never)).toThrow(/unknown option/);
      pool.get(); // a forgotten yield*: nothing is taken
      expect(pool.size).toBe(0);
    });
  });

  it('a destroy that throws goes to the hub error handler, not to the caller', async () => {
    const errors: unknown[] = [];
    getHub().onError((e) => void errors.push(e));
    try {
      const pool = new ResourcePool({ create: () => ({}), destroy: () => { throw new Error('close failed'); } });
      await run(function* () {
        const r = yield* pool.get();
        pool.discard(r);
        yield* sleep(1);
      });
      expect((errors[0] as Error).message).toBe('close failed');
    } finally {
      getHub().onError(null);
    }
  });
});

describe('ResourcePool of GreenSocket connections', () => {
  it('serves many greenthreads over at most max real connections, then drains them', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    let accepted = 0;
    const handlers: GreenThread<void>[] = [];
    const acceptor = spawn(function* () {
      for (;;) {
        const conn = yield* server.accept();
        accepted++;
        handlers.push(
          spawn(function* () {
            try {
              for (;;) {
                const line = yield* conn.readLine();
                if (line.length === 0) break;
                yield* conn.sendAll(Buffer.from(`echo ${line.toString().trim()}\n`));
              }
            } finally {
              conn.close();
            }
          }),
        );
      }
    });
    const pool = new ResourcePool<GreenSocket>({
      create: () => connect({ port }),
      destroy: (s) => s.close(),
      validate: (s) => s.fd >= 0,
      max: 3,
    });
    const replies = await run(function* () {
      const gts = Array.from({ length: 20 }, (_, i) =>
        spawn(() =>
          pool.use(function* (sock): Green<string> {
            yield* sock.sendAll(Buffer.from(`req ${i}\n`));
            return (yield* sock.readLine()).toString().trim();
          }, { discardOnError: true }),
        ),
      );
      const out: string[] = [];
      for (const g of gts) out.push(yield* g.wait());
      expect(pool.size).toBe(3);
      yield* pool.drain({ timeoutMs: 2000 });
      for (const h of handlers) yield* h.wait(); // each saw end of stream: the pool closed it
      return out;
    });
    acceptor.kill();
    server.close();
    expect(accepted).toBe(3);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `echo req ${i}`));
  });

  it('a connection killed mid-request with discardOnError is closed, not reused', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const conns: GreenSocket[] = [];
    const acceptor = spawn(function* () {
      for (;;) conns.push(yield* server.accept());
    });
    const pool = new ResourcePool<GreenSocket>({ create: () => connect({ port }), destroy: (s) => s.close(), max: 1 });
    await run(function* () {
      const user = spawn(() => pool.use((s) => s.readLine(), { discardOnError: true })); // never answered
      while (conns.length === 0 || pool.size === 0) yield* sleep(1);
      user.kill();
      expect(yield* catching(user.wait())).toBeInstanceOf(GreenletExit);
      expect(pool.size).toBe(0);
      yield* sleep(1);
      expect(conns.length).toBe(1);
      expect((yield* conns[0].recv(10)).length).toBe(0); // the server sees it closed
      yield* pool.drain();
    });
    for (const c of conns) c.close();
    acceptor.kill();
    server.close();
  });
});

