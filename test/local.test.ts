// local (lib/local.ts)
import { describe, expect, it } from 'vitest';
import { local, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('local', () => {
  it('gives each greenthread its own values across switches', async () => {
    const ctx = local<{ id?: number; trail?: number[] }>();
    const worker = function* (id: number): Green<string> {
      ctx.id = id;
      ctx.trail = [];
      for (let i = 0; i < 3; i++) {
        ctx.trail.push(ctx.id);
        yield* sleep(0);
      }
      return `${ctx.id}:${ctx.trail.join(',')}`;
    };
    const r = await Promise.all([spawn(worker, 1), spawn(worker, 2), spawn(worker, 3)]);
    expect(r).toEqual(['1:1,1,1', '2:2,2,2', '3:3,3,3']);
    expect(ctx.id).toBeUndefined(); // outside any greenthread: a set of its own
  });

  it('children start empty, unless inherit is asked', async () => {
    const plain = local<{ v?: string }>();
    const inherited = local<{ v?: string }>({ inherit: true });
    const r = await run(function* () {
      plain.v = 'parent';
      inherited.v = 'parent';
      const child = spawn(function* () {
        const seen = [plain.v, inherited.v];
        inherited.v = 'child';
        return seen;
      });
      const seen = yield* child.wait();
      return { seen, parentAfter: inherited.v, keys: Object.keys(plain), has: 'v' in plain };
    });
    expect(r).toEqual({ seen: [undefined, 'parent'], parentAfter: 'parent', keys: ['v'], has: true });
  });

  it('rejects bad options', () => {
    expect(() => local(5 as never)).toThrow(TypeError);
  });
});
