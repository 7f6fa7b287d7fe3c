// What keeps the hot path cheap, checked as behaviour: one turn per wake-up from Node's loop,
// the clock shared by short turns without delaying a timer, and objects V8 can load from inline.
import { describe, expect, it } from 'vitest';
import { getHub, sleep, spawn, trampoline } from '../lib';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers/green';
import { closeAll, pipe } from './helpers/raw';
import { native } from '../lib/native';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('a wake-up from Node\'s loop', () => {
  it('runs the woken greenthread in one turn, with no second, empty turn after it', async () => {
    const [r, w] = pipe();
    const reader = spawn(function* () {
      yield* trampoline(r, { read: true });
    });
    await settle(); // parked on the pipe
    const before = getHub().stats().turns;
    native.write(w, Buffer.from('x'), 0, 1);
    await reader;
    await settle(); // an immediate scheduled by the wake-up would have run its turn by now
    expect(getHub().stats().turns - before).toBe(1);
    closeAll(r, w);
  });
});

describe('a timer among greenthreads that only yield', () => {
  /** Spins that began after a 5 ms timer was due, among two greenthreads that only yield. */
  async function lateSpins(): Promise<number> {
    let stop = false;
    let deadline = Infinity;
    let late = 0;
    const spinners = [0, 1].map(() => spawn(function* () {
      while (!stop) {
        if (performance.now() >= deadline) late++;
        const end = performance.now() + 0.02; // turns long enough that a late timer shows
        while (performance.now() < end);
        yield* sleep(0);
      }
    }));
    const timer = spawn(function* () {
      yield* sleep(5);
      stop = true;
    });
    // Runs right after the timer's greenthread parked, in the same turn: no earlier than the
    // hub's own deadline for it.
    spawn(function* () {
      deadline = performance.now() + 5;
    });
    await timer;
    await Promise.all(spinners);
    return late;
  }

  it('still fires a due timer in the first turn that starts after its deadline', async () => {
    // Only the turn during which the deadline passed may hold late spins (one per spinner): the
    // next turn reads the clock and fires the timer before either resumes. (A hub that let the
    // clock go stale with a timer pending fires it turns late, in about half the rounds.)
    const rounds: number[] = [];
    for (let i = 0; i < 10; i++) rounds.push(await lateSpins());
    expect(Math.max(...rounds)).toBeLessThanOrEqual(2);
  });
});

describe('turns longer than the slice', () => {
  it('hand control back to Node\'s loop after every turn, from the first turn of a slice', async () => {
    const hub = getHub();
    const busy = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    let stop = false;
    // Each turn runs both: 2 × 6 ms, longer than the 10 ms slice, and no timer is pending.
    const workers = [0, 1].map(() => spawn(function* () {
      while (!stop) {
        busy(6);
        yield* sleep(0);
      }
    }));
    const turnsPerTick: number[] = [];
    await new Promise<void>((resolve) => {
      let last = hub.stats().turns;
      const tick = (): void => {
        const now = hub.stats().turns;
        turnsPerTick.push(now - last);
        last = now;
        if (turnsPerTick.length < 8) setImmediate(tick);
        else resolve();
      };
      setImmediate(tick);
    });
    stop = true;
    await Promise.all(workers);
    expect(hub.timeSliceMs).toBe(10);
    expect(Math.max(...turnsPerTick)).toBeLessThanOrEqual(1);
  });
});

describe('a short turn followed by long ones', () => {
  it('still hands control back to Node\'s loop once the slice is over, not turns later', async () => {
    const busy = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    let stop = false;
    let longSinceTick = 0;
    const longPerTick: number[] = [];
    // One short turn, then three of 8 ms each, over and over (no timer pending): with the clock
    // read after every turn, at most two 8 ms turns fit before the 10 ms slice is over.
    const worker = spawn(function* () {
      for (let i = 0; !stop; i++) {
        if (i % 4 !== 0) {
          busy(8);
          longSinceTick++;
        }
        yield* sleep(0);
      }
    });
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        longPerTick.push(longSinceTick);
        longSinceTick = 0;
        if (longPerTick.length < 12) setImmediate(tick);
        else resolve();
      };
      setImmediate(tick);
    });
    stop = true;
    await worker;
    expect(Math.max(...longPerTick)).toBeLessThanOrEqual(2);
  });
});

describe('objects on the hot path', () => {
  it('exports plain values (no getters) on an object V8 lays out flat, for require and import alike', () => {
    const script = `
      const g = require(${JSON.stringify(ROOT + '/dist')});
      const { native } = require(${JSON.stringify(ROOT + '/dist/native.js')});
      const getters = Object.keys(g).filter((k) => typeof Object.getOwnPropertyDescriptor(g, k).get === 'function');
      console.log(JSON.stringify({ index: %HasFastProperties(g), native: %HasFastProperties(native), K: %HasFastProperties(require(${JSON.stringify(ROOT + "/dist/native.js")}).K), getters, esModule: g.__esModule }));
      import(${JSON.stringify(ROOT + '/dist/index.js')}).then((m) => console.log(typeof m.sleep, typeof m.default.spawn));
    `;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    const [first, second] = r.stdout.trim().split('\n');
    expect(JSON.parse(first)).toEqual({ index: true, native: true, K: true, getters: [], esModule: true });
    expect(second).toBe('function function');
  });
});
