// Greenthreads run in the hub's own async context (lib/hub/clean-context.ts): an
// AsyncLocalStorage store of whoever first touched the hub, spawned a greenthread or woke it
// never shows inside one. Child processes: the hub must be created inside a store.
import { describe, expect, it } from 'vitest';
import { node } from './helpers/green';

describe('AsyncLocalStorage inside greenthreads', () => {
  it('getStore() is undefined at the start and after every kind of wake-up: timer, promise, poller', () => {
    const r = node(`
      const { AsyncLocalStorage } = require('node:async_hooks');
      const als = new AsyncLocalStorage();
      const seen = [];
      als.run('first toucher', () => {
        const { spawn, sleep, waitFor, listen, connect } = require('./dist');
        spawn(function* () {
          seen.push(['start', als.getStore()]);
          yield* sleep(1);
          seen.push(['timer', als.getStore()]);
          yield* waitFor(als.run('promise maker', () => new Promise((r) => setTimeout(r, 1))));
          seen.push(['promise', als.getStore()]);
          const server = listen({ port: 0 });
          const c = yield* connect({ port: server.address().port, host: '127.0.0.1' });
          const s = yield* server.accept();
          setTimeout(() => als.run('writer', () => require('./dist/native.js').native.write(s.fd, Buffer.from('x'), 0, 1)), 5);
          yield* c.recv();
          seen.push(['poller', als.getStore()]);
          c.close(); s.close(); server.close();
        });
      });
      als.run('spawner', () => setTimeout(() => {
        require('./dist').spawn(function* () { seen.push(['spawned in a store', als.getStore()]); });
      }, 1));
      process.on('exit', () => console.log(JSON.stringify(seen.map(([k, v]) => [k, v === undefined ? 'undefined' : v]))));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      ['start', 'undefined'],
      ['spawned in a store', 'undefined'],
      ['timer', 'undefined'],
      ['promise', 'undefined'],
      ['poller', 'undefined'],
    ]);
  });

  it('a store entered with run() inside a greenthread is seen there, synchronously', () => {
    const r = node(`
      const { AsyncLocalStorage } = require('node:async_hooks');
      const als = new AsyncLocalStorage();
      require('./dist').spawn(function* () { als.run('mine', () => console.log(als.getStore())); });
    `);
    expect(r.stdout.trim()).toBe('mine');
  });
});
