/**
 * The nova story, defused: a heartbeat greenthread every 100 ms beside a CPU-heavy loop.
 * Without cooperate() the loop would hold the hub for its whole run and the heartbeat would
 * stall (eventlet's failure); with it, the loop gives way whenever a time slice (10 ms) is used up.
 *
 * Run: npx tsx examples/heartbeat.ts
 */
import { cooperate, sleep, spawn } from '../lib';
import type { Green } from '../lib';

function* heartbeat(): Green<void> {
  let last = performance.now();
  for (;;) {
    yield* sleep(100);
    const now = performance.now();
    console.log(`heartbeat: ${(now - last).toFixed(0)} ms since the last one`);
    last = now;
  }
}

function* periodicTask(): Green<number> {
  let sum = 0;
  const end = performance.now() + 1000; // one second of pure CPU work
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) sum += Math.sqrt(i);
    yield* cooperate(); // costs one clock read until the slice is used up
  }
  return sum;
}

const beat = spawn({ name: 'report_state', priority: 'high' }, heartbeat);
const task = spawn({ name: 'periodic_task' }, periodicTask);
task.then(() => {
  console.log('periodic task done');
  beat.kill();
});
