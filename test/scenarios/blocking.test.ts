// detectBlocking (lib/hog/blocking.ts, lib/hog/watchdog-worker.js): real hogs, a real watchdog thread.
import { describe, expect, it } from 'vitest';
import { connect, detectBlocking, formatReport, listen, sleep, spawn } from '../../lib';
import type { BlockingReport, Green } from '../../lib';
import { node, run } from '../helpers/green';

function hogFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a CPU hog that never yields */
  }
}

describe('detectBlocking', () => {
  it('reports a 2 × 300 ms hog once per episode: name, spawn site, duration and stack', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
    await detector.ready();
    function* periodicTaskHog(): Green<void> {
      for (let i = 0; i < 2; i++) {
        hogFor(300);
        yield* sleep(50);
      }
    }
    const hog = spawn({ name: 'periodic_task' }, periodicTaskHog);
    await hog;
    await new Promise((r) => setTimeout(r, 150)); // the second report crosses threads
    detector.stop();
    expect(reports).toHaveLength(2);
    for (const r of reports) {
      expect(r.id).toBe(hog.id);
      expect(r.name).toBe('periodic_task');
      expect(r.spawnSite).toContain('blocking.test.ts');
      expect(r.durationMs).toBeGreaterThanOrEqual(250);
      expect(r.noticedAfterMs).toBeGreaterThanOrEqual(100);
      expect(r.noticedAfterMs).toBeLessThan(r.durationMs);
      const names = (r.stack ?? []).map((f) => f.functionName);
      expect(names).toContain('hogFor');
      expect(names).toContain('periodicTaskHog');
      expect(r.stack![0].line).toBeGreaterThan(0);
      expect(formatReport(r)).toMatch(/greenthread "periodic_task" \(id \d+\) blocked the hub for \d+ ms[\s\S]*at hogFor \(/);
    }
  });

  it('names the greenthread that started the detector and then hogged, before any switch', async () => {
    const reports: BlockingReport[] = [];
    let detector: ReturnType<typeof detectBlocking> | undefined;
    const hog = spawn({ name: 'starts_then_hogs' }, function* () {
      // The watchdog reads the running greenthread's id from shared memory that switches keep
      // current only while a detector watches: starting one must record who runs now.
      detector = detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) });
      hogFor(1500); // long enough for the watchdog thread to start on a loaded machine
    });
    await hog;
    await new Promise((r) => setTimeout(r, 150));
    detector!.stop();
    expect(reports.map((r) => [r.id, r.name])).toEqual([[hog.id, 'starts_then_hogs']]);
  });

  it('keeps watching while a detector of another copy of the module still runs', () => {
    // Two copies share one hub: the count of running detectors lives on the hub, so stopping
    // the first copy's detector must not stop the switch counters the second one reads.
    const r = node(`
      const a = require('./dist');
      for (const k of Object.keys(require.cache)) if (k.includes('/dist/')) delete require.cache[k];
      const b = require('./dist');
      if (a.detectBlocking === b.detectBlocking) throw new Error('not two copies');
      const first = a.detectBlocking({ thresholdMs: 100, onReport: () => {} });
      const second = b.detectBlocking({ thresholdMs: 100, onReport: (rep) => console.log('report ' + rep.name) });
      Promise.all([first.ready(), second.ready()]).then(() => {
        first.stop();
        const hog = b.spawn({ name: 'after_first_stopped' }, function* () {
          yield* b.sleep(1); // a switch after the stop: the counters must still be written
          const end = performance.now() + 600;
          while (performance.now() < end);
        });
        hog.then(() => setTimeout(() => second.stop(), 200));
      });
    `);
    expect(r.stderr).not.toMatch(/Error/); // (the watchdog's live line goes to stderr)
    expect(r.stdout.trim()).toBe('report after_first_stopped');
  });

  it('reports nothing for a hub that only sleeps and does I/O', async () => {
    const reports: BlockingReport[] = [];
    const detector = detectBlocking({ thresholdMs: 50, onReport: (r) => reports.push(r) });
    await detector.ready();
    const server = listen({ port: 0 });
    const port = server.address().port;
    await run(function* () {
      spawn(function* () {
        const c = yield* server.accept();
        for (;;) {
          const d = yield* c.recv();
          if (d.length === 0) break;
          yield* c.sendAll(d);
        }
        c.close();
      });
      const s = yield* connect({ host: '127.0.0.1', port });
      for (let i = 0; i < 30; i++) {
        yield* s.sendAll(Buffer.from('ping'));
        yield* s.recv();
        yield* sleep(10);
      }
      s.close();
    });
    server.close();
    await new Promise((r) => setTimeout(r, 100));
    detector.stop();
    expect(reports).toEqual([]);
  });

  it('writes one live line per episode while the block lasts, and lets the process exit after stop()', () => {
    const r = node(`
      const { detectBlocking, spawn, sleep } = require('./dist');
      const detector = detectBlocking({ thresholdMs: 50, onReport: (rep) => console.log('report ' + rep.name + ' ' + (rep.durationMs >= 200)) });
      spawn(function* () {
        yield* detector.ready();
        yield* spawn(function* nightly_audit() {
          const end = Date.now() + 250;
          while (Date.now() < end) {}
          yield* sleep(100); // the report arrives while we sleep
        }).wait();
        detector.stop();
      });
      process.on('exit', () => console.log('exited'));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['report nightly_audit true', 'exited']);
    const live = r.stderr.split('\n').filter((l) => l.includes('has blocked the hub'));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatch(/greenthread "nightly_audit" \(id \d+\) has blocked the hub for \d+ ms/);
  });

  it('rejects bad options', () => {
    expect(() => detectBlocking({ thresholdMs: -1 })).toThrow(RangeError);
    expect(() => detectBlocking({ stacks: 'yes' as never })).toThrow(TypeError);
    expect(() => detectBlocking({ onReport: 5 as never })).toThrow(TypeError);
  });
});
