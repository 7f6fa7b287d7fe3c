/**
 * The nova story, defused: a heartbeat greenthread every 100 ms beside a CPU-heavy loop.
 * Without cooperate() the loop would hold the hub for its whole run and the heartbeat would
 * stall (eventlet's failure); with it, the loop gives way whenever a time slice (10 ms) is used up.
 *
 * main() runs the program's root greenthread: when it returns, the heartbeat is shut down and
 * the process exits (0); Ctrl-C stops both at once (exit code 130).
 *
 * Run: npx tsx examples/heartbeat.ts
 */
import { cooperate, main, sleep, spawn } from 'greenhub';
import type { Green } from 'greenhub';

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

main(function* app(): Green<void> {
  spawn({ name: 'report_state', priority: 'high' }, heartbeat);
  yield* spawn({ name: 'periodic_task' }, periodicTask).wait();
  console.log('periodic task done'); // returning ends the heartbeat too
});
