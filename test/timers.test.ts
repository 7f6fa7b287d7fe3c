// The hub's timer heap (lib/hub/timers.ts): order by (deadline, sequence), O(log n) cancel.
import { describe, expect, it } from 'vitest';
import { Timer, TimerHeap, TimerKind } from '../lib/hub/timers';

function timer(deadline: number, seq: number, ref = true): Timer {
  return new Timer(deadline, seq, TimerKind.Wake, undefined, ref, undefined);
}

describe('TimerHeap', () => {
  it('pops 2,000 timers with the same deadline in the order they were set', () => {
    const heap = new TimerHeap();
    for (let i = 0; i < 2000; i++) heap.push(timer(100, i));
    const order: number[] = [];
    for (let t = heap.pop(); t; t = heap.pop()) order.push(t.seq);
    expect(order).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('pops by deadline first, then by sequence', () => {
    const heap = new TimerHeap();
    const deadlines = [50, 10, 30, 10, 50, 20, 10];
    deadlines.forEach((d, i) => heap.push(timer(d, i)));
    const out: Array<[number, number]> = [];
    for (let t = heap.pop(); t; t = heap.pop()) out.push([t.deadline, t.seq]);
    expect(out).toEqual([[10, 1], [10, 3], [10, 6], [20, 5], [30, 2], [50, 0], [50, 4]]);
  });

  it('cancels any timer and keeps the rest in order; counts the ones that hold the process', () => {
    const heap = new TimerHeap();
    const ts = Array.from({ length: 100 }, (_, i) => timer((i * 37) % 100, i, i % 2 === 0));
    ts.forEach((t) => heap.push(t));
    expect(heap.refCount).toBe(50);
    for (const t of ts) if (t.seq % 3 === 0) expect(heap.remove(t)).toBe(true);
    expect(heap.remove(ts[0])).toBe(false); // already cancelled
    expect(heap.refCount).toBe(ts.filter((t) => t.seq % 3 !== 0 && t.ref).length);
    const out: number[] = [];
    for (let t = heap.pop(); t; t = heap.pop()) out.push(t.deadline);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toHaveLength(ts.filter((t) => t.seq % 3 !== 0).length);
    expect(heap.refCount).toBe(0);
  });
});
