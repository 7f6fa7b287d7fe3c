// scope (lib/sync/scope.ts)
import { describe, expect, it } from 'vitest';
import { GreenletExit, scope, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('scope', () => {
  it('returns the body\'s result once the body and every child have ended', async () => {
    const log: string[] = [];
    const r = await run(function* () {
      const v = yield* scope(function* (s) {
        s.spawn(function* () {
          yield* sleep(5);
          log.push('slow child');
        });
        s.spawn(function* () {
          log.push('fast child');
        });
        return 'body result';
      });
      log.push('scope returned');
      return v;
    });
    expect(r).toBe('body result');
    expect(log).toEqual(['fast child', 'slow child', 'scope returned']);
  });

  it('the first child error kills the other children and the body, and is thrown', async () => {
    const log: string[] = [];
    const msg = await run(function* (): Green<string> {
      try {
        yield* scope(function* (s) {
          s.spawn(function* () {
            try {
              yield* sleep(10_000);
            } finally {
              log.push('sibling killed');
            }
          });
          s.spawn(function* () {
            yield* sleep(2);
            throw new Error('child failed');
          });
          try {
            yield* sleep(10_000);
          } finally {
            log.push('body interrupted');
          }
        });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('child failed');
    expect(log.sort()).toEqual(['body interrupted', 'sibling killed']);
  });

  it('killing the owner kills the children', async () => {
    let cleaned = 0;
    const owner = spawn(function* () {
      yield* scope(function* (s) {
        for (let i = 0; i < 3; i++) {
          s.spawn(function* () {
            try {
              yield* sleep(10_000);
            } finally {
              cleaned++;
            }
          });
        }
      });
    });
    await new Promise((r) => setTimeout(r, 10));
    owner.kill();
    expect(cleaned).toBe(3);
    await expect(Promise.resolve(owner)).rejects.toBeInstanceOf(GreenletExit);
  });

  it('rejects a non-function body', async () => {
    await run(function* () {
      expect(() => scope(5 as never)).toThrow(TypeError);
    });
  });
});
