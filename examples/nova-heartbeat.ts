/**
 * The failure greenhub exists to fix, in three modes. OpenStack nova ran a CPU-heavy
 * `periodic_task` greenthread beside the `report_state` heartbeat; under eventlet the heartbeat
 * only ran when the hog yielded, and the service was reported dead.
 *
 *   npx tsx examples/nova-heartbeat.ts naive       the hog never yields (with the blocking detector on)
 *   npx tsx examples/nova-heartbeat.ts cooperate   the hog calls cooperate() in its loop
 *   npx tsx examples/nova-heartbeat.ts tpool       the hog's work runs on a worker thread
 *
 * Options: --runs N (default 5) --hog-ms M (CPU per run, default 1000).
 * Prints the heartbeat's lateness (how late each beat started against its 100 ms schedule).
 */
import * as path from 'node:path';
import { cooperate, detectBlocking, formatReport, loopingCall, sleep, spawn, tpool } from 'greenhub';
import type { BlockingReport, Green } from 'greenhub';

const mode = process.argv[2] ?? 'naive';
if (!['naive', 'cooperate', 'tpool'].includes(mode)) {
  console.error('usage: nova-heartbeat.ts naive|cooperate|tpool [--runs N] [--hog-ms M]');
  process.exit(2);
}
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 5);
const hogMs = arg('--hog-ms', 1000);

/** The hog's work, done inline: pure CPU for about ms. */
function updateAvailableResource(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
  return x;
}

/** The same work, giving way whenever the time slice is used up. */
function* updateAvailableResourceCooperatively(ms: number): Green<number> {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
    yield* cooperate();
  }
  return x;
}

function* periodicTask(): Green<void> {
  for (let run = 0; run < runs; run++) {
    if (mode === 'naive') updateAvailableResource(hogMs);
    else if (mode === 'cooperate') yield* updateAvailableResourceCooperatively(hogMs);
    else yield* tpool.execute({ filename: path.join(__dirname, 'cpu-burn.js'), name: 'updateAvailableResource' }, hogMs);
    yield* sleep(100);
  }
}

const lateness: number[] = [];
const reports: BlockingReport[] = [];
const detector = mode === 'naive' ? detectBlocking({ thresholdMs: 100, onReport: (r) => reports.push(r) }) : undefined;

spawn(function* main(): Green<void> {
  if (detector) yield* detector.ready();
  const heartbeat = loopingCall(
    function reportState() {
      lateness.push(heartbeat.stats.lastLatenessMs);
    },
    { intervalMs: 100, name: 'report_state', priority: 'high' },
  );
  yield* spawn({ name: 'periodic_task' }, periodicTask).wait();
  heartbeat.stop();
  detector?.stop();
  const sorted = [...lateness].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  console.log(`mode ${mode}: ${runs} runs of ${hogMs} ms of CPU; heartbeat every 100 ms`);
  console.log(`heartbeat lateness: max ${sorted[sorted.length - 1]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (${sorted.length} beats)`);
  for (const r of reports.slice(0, 1)) process.stdout.write(formatReport(r));
  if (reports.length > 1) console.log(`(${reports.length} blocking reports in all, one per run)`);
});
