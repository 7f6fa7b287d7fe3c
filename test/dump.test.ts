// getHub().dump() and formatDump() (lib/hub/introspect.ts, lib/hub/format-dump.ts): what each
// greenthread waits on, since when and where (debug mode), as data and as text.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, formatDump, getHub, sleep, spawn } from '../lib';
import type { GreenThreadInfo } from '../lib';
import { ROOT, run } from './helpers/green';

const debugBefore = getHub().debug;
afterEach(() => {
  getHub().debug = debugBefore;
});

/** Lets the hub run the greenthreads spawned so far up to their first suspension. */
function settle(ms = 5): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function entry(name: string): GreenThreadInfo {
  const g = getHub().dump().find((i) => i.name === name);
  if (g === undefined) throw new Error(`no greenthread ${name} in dump()`);
  return g;
}

describe('dump()', () => {
  it('shows a greenthread parked on an Event as waiting on the Event wait, with no debug fields outside debug mode', async () => {
    getHub().debug = false;
    const ev = new Event<number>();
    const gt = spawn({ name: 'consumer' }, function* () {
      return yield* ev.wait();
    });
    await settle();
    const g = entry('consumer');
    expect(g.id).toBe(gt.id);
    expect(g.state).toBe('waiting');
    expect(g.waitingOn).toMatch(/^Event\.wait\(\)/);
    expect(g.since).toBeUndefined();
    expect(g.waitSite).toBeUndefined();
    ev.send(1);
    expect(await gt).toBe(1);
  });

  it('in debug mode says for how long (since ≥ 0, growing) and where it waits', async () => {
    getHub().debug = true;
    const ev = new Event<void>();
    const gt = spawn({ name: 'debug_consumer' }, function* () {
      yield* ev.wait();
    });
    await settle();
    const first = entry('debug_consumer');
    expect(first.state).toBe('waiting');
    expect(first.since).toBeGreaterThanOrEqual(0);
    await settle(60);
    const later = entry('debug_consumer');
    expect(later.since!).toBeGreaterThanOrEqual(first.since! + 40);
    // The site of the wait is recorded by debug mode's operation tracing (lib/operation.ts);
    // dump() passes it on: the yield* above, in this file.
    expect(later.waitSite).toMatch(/dump\.test\.ts:\d+:\d+$/);
    ev.send();
    await gt;
  });

  it('gives no since or site to a running greenthread, and states sleeping for a sleep', async () => {
    getHub().debug = true;
    const sleeper = spawn({ name: 'sleeper' }, function* () {
      yield* sleep(1000);
    });
    const seen = await run(function* () {
      yield* sleep(5);
      return getHub().dump();
    });
    const self = seen.find((g) => g.state === 'running')!;
    expect(self).toBeDefined();
    expect(self.since).toBeUndefined();
    expect(self.waitSite).toBeUndefined();
    const s = seen.find((g) => g.name === 'sleeper')!;
    expect(s.state).toBe('sleeping');
    expect(s.waitingOn).toMatch(/^timer until \+\d+\.\d ms$/);
    expect(s.since).toBeGreaterThanOrEqual(0);
    sleeper.kill();
  });
});

describe('formatDump()', () => {
  it('names each greenthread and what it waits on', async () => {
    getHub().debug = false;
    const ev = new Event<void>();
    const gt = spawn({ name: 'report_state' }, function* () {
      yield* ev.wait();
    });
    await settle();
    const text = formatDump();
    expect(text).toMatch(/^greenhub: \d+ live greenthreads?\n/);
    expect(text).toContain(`  "report_state" (id ${gt.id}): waiting on Event.wait() (1 of 1 waiting)\n`);
    expect(text).toContain('debug mode adds since when and where each one waits');
    ev.send();
    await gt;
  });

  it('adds since and site in debug mode, and formats a given dump', async () => {
    getHub().debug = true;
    const ev = new Event<void>();
    const gt = spawn({ name: 'periodic_task' }, function* () {
      yield* ev.wait();
    });
    await settle(20);
    const text = formatDump();
    expect(text).toMatch(new RegExp(`"periodic_task" \\(id ${gt.id}\\): waiting on Event\\.wait\\(\\) \\(1 of 1 waiting\\), for \\d+ ms`));
    expect(text).not.toContain('debug mode adds');
    ev.send();
    await gt;

    const given: GreenThreadInfo[] = [
      { id: 7, name: 'a', priority: 'normal', state: 'waiting', waitingOn: 'fd 9 for read', runTimeMs: 0, switches: 3, since: 12_345, waitSite: '/app/a.ts:3:14' },
      { id: 8, name: 'b', priority: 'high', state: 'runnable', waitingOn: null, runTimeMs: 0, switches: 1 },
    ];
    expect(formatDump(given)).toBe(
      'greenhub: 2 live greenthreads\n' + '  "a" (id 7): waiting on fd 9 for read, for 12.3 s, at /app/a.ts:3:14\n' + '  "b" (id 8): runnable\n',
    );
    expect(formatDump([])).toBe('greenhub: no live greenthreads\n');
  });

  it('prints on SIGUSR2 with the documented one-liner (a child process, debug mode from GREENHUB_DEBUG=1)', () => {
    const script = `
      const { Event, formatDump, spawn } = require('./dist');
      process.on('SIGUSR2', () => process.stderr.write(formatDump()));
      const ev = new Event();
      spawn({ name: 'stuck_consumer' }, function* () {
        yield* ev.wait();
      });
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 50);
      setTimeout(() => ev.send(), 150);
    `;
    const r = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, GREENHUB_DEBUG: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^greenhub: 1 live greenthread\n {2}"stuck_consumer" \(id 1\): waiting on Event\.wait\(\) \(1 of 1 waiting\), for \d+ ms, at \[eval\]:6:\d+\n/m);
  });
});
