// detectBlocking beyond greenthreads (lib/hog/blocking.ts, lib/hog/watchdog-worker.js): the event
// loop blocked by a plain callback, with no greenthread running, is reported too; stacks start
// at the user's code, not in node: internals.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { detectBlocking, formatReport, sleep, spawn } from '../../lib';
import type { BlockingReport, Green } from '../../lib';
import { node } from '../helpers/green';

function hogFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a CPU hog that never yields */
  }
}

/** Waits for ms on Node's loop (the reports cross threads). */
function settle(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** An object util.inspect takes tens of ms over: a hog whose time is spent in node: internals. */
const big = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `item ${i}`, a: [i, i + 1, { b: i }] }));

function inspectFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) inspect(big, { depth: Infinity, maxArrayLength: Infinity });
}

describe('detectBlocking outside greenthreads', () => {
  it('reports a 300 ms hog in a plain setTimeout callback as blocked outside any greenthread, with its stack', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
    await detector.ready();
    await new Promise<void>((resolve) =>
      setTimeout(function timerHog() {
        hogFor(300);
        resolve();
      }, 20),
    );
    await settle(200);
    detector.stop();
    expect(reports).toHaveLength(1);
    const r = reports[0];
    expect(r.id).toBe(0);
    expect(r.name).toBe('outside any greenthread');
    expect(r.spawnSite).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(250);
    expect(r.durationMs).toBeLessThan(1000);
    expect(r.noticedAfterMs).toBeGreaterThanOrEqual(100);
    expect(r.noticedAfterMs).toBeLessThan(r.durationMs);
    const names = (r.stack ?? []).map((f) => f.functionName);
    expect(names[0]).toBe('hogFor');
    expect(names.some((n) => n.includes('timerHog'))).toBe(true);
    expect(r.stack![0].url).toContain('blocking-outside.test.ts');
    expect(formatReport(r)).toMatch(/^greenhub: the event loop was blocked outside any greenthread for \d+ ms \(noticed after \d+ ms\)\n  stack while blocked:\n    at hogFor \(/);
  });

  it('starts the stack at user code when the hog is inside node: internals, outside and inside greenthreads', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
    await detector.ready();
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        inspectFor(400);
        resolve();
      }, 20),
    );
    await settle(200);
    const gt = spawn({ name: 'inspector_hog' }, function* (): Green<void> {
      inspectFor(400);
      yield* sleep(0);
    });
    await gt;
    await settle(200);
    detector.stop();
    expect(reports.map((r) => r.name)).toEqual(['outside any greenthread', 'inspector_hog']);
    for (const r of reports) {
      expect(r.stack!.length).toBeGreaterThan(0);
      expect(r.stack![0].url).not.toMatch(/^node:/);
      expect(r.stack![0].functionName).toBe('inspectFor');
    }
  });

  it('reports a greenthread hog once, as the greenthread, and not again as a block outside', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
    await detector.ready();
    const gt = spawn({ name: 'periodic_task' }, function* (): Green<void> {
      hogFor(300);
    });
    await gt;
    await settle(300);
    detector.stop();
    expect(reports.map((r) => [r.id, r.name])).toEqual([[gt.id, 'periodic_task']]);
  });

  it('reports nothing for a loop kept busy by short callbacks and idle timers', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
    await detector.ready();
    let ticks = 0;
    const busy = setInterval(() => {
      hogFor(20);
      ticks++;
    }, 5);
    await settle(600);
    clearInterval(busy);
    await settle(300);
    detector.stop();
    expect(ticks).toBeGreaterThan(10);
    expect(reports).toEqual([]);
  });

  it('writes one live line while the loop is blocked outside any greenthread, and lets the process exit after stop()', () => {
    const r = node(`
      const { detectBlocking, formatReport } = require('./dist');
      const detector = detectBlocking({ thresholdMs: 50, onReport: (rep) => console.log(formatReport(rep).split('\\n')[0].replace(/\\d+ ms/g, 'N ms')) });
      detector.ready().then(() => {
        setTimeout(function requestHandler() {
          const end = Date.now() + 250;
          while (Date.now() < end) {}
          setTimeout(() => detector.stop(), 100); // the report arrives meanwhile
        }, 10);
      });
      process.on('exit', () => console.log('exited'));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['greenhub: the event loop was blocked outside any greenthread for N ms (noticed after N ms)', 'exited']);
    const live = r.stderr.split('\n').filter((l) => l.includes('blocked outside any greenthread'));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatch(/^greenhub: the event loop has been blocked outside any greenthread for \d+ ms at \S*requestHandler.* \(\[eval\]:\d+\) \(threshold 50 ms\)$/);
  });
});
