/**
 * The hub's timers: a binary min-heap ordered by (deadline, sequence), so timers with the same
 * deadline fire in the order they were set (gevent fires them in reverse; eventlet's order is
 * unspecified). Each timer knows its index, so cancelling is O(log n) and leaves nothing behind.
 */
import { TimeoutError } from '../errors';
import type { AnyGreenThread } from './greenthread';

/** What a timer does when it fires. */
export enum TimerKind {
  /** Resume `gt` (sleep). */
  Wake,
  /** Put a not-yet-started `gt` on the run queue (spawnAfter). */
  Start,
  /** Throw a TimeoutError into `gt` at its suspension point. */
  Timeout,
}

export class Timer {
  /** Position in the heap; -1 once fired or cancelled. */
  index = -1;
  constructor(
    public deadline: number,
    public seq: number,
    public kind: TimerKind,
    public gt: AnyGreenThread | undefined,
    /** Whether this timer holds the process open. */
    public ref: boolean,
    /** For Timeout: the message of the TimeoutError. */
    public message: string | undefined,
    /** For Timeout: what timed out (a socket whose own timeout it is), readable from the error. */
    public owner?: object,
  ) {}

  /** For Timeout: makes what is thrown instead of a TimeoutError (a `timeout()` object's own error). */
  makeError: (() => unknown) | undefined = undefined;
  /**
   * For Timeout: a deadline around a block (`timeout()`, `withTimeout`), not a single wait. Fired
   * while gt is woken but not yet resumed, its error is thrown at gt's next suspension instead
   * of lapsing; whoever cancels the timer withdraws it (lib/sync/timeout.ts).
   */
  deferrable = false;

  get live(): boolean {
    return this.index >= 0;
  }
}

const TIMER_OF_ERROR = Symbol.for('greenhub.timeoutTimer');

/** The TimeoutError a Timeout timer throws, marked with the timer that threw it (or what its makeError makes). */
export function timeoutErrorOf(t: Timer): unknown {
  if (t.makeError !== undefined) return t.makeError();
  const err = new TimeoutError(t.message);
  // Which timer threw: an operation with its own timeout tells it from an outer one.
  Object.defineProperty(err, TIMER_OF_ERROR, { value: t });
  return err;
}

/** What a TimeoutError says timed out (the handle whose own timeout fired), if anything. */
export function timeoutOwner(err: unknown): object | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return ((err as Record<symbol, unknown>)[TIMER_OF_ERROR] as Timer | undefined)?.owner;
}

/** Whether err is the TimeoutError that timer t threw. */
export function isTimeoutOf(err: unknown, t: Timer): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[TIMER_OF_ERROR] === t;
}

function before(a: Timer, b: Timer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export class TimerHeap {
  #heap: Timer[] = [];
  /** Live timers that hold the process open. */
  refCount = 0;

  get size(): number {
    return this.#heap.length;
  }

  peek(): Timer | undefined {
    return this.#heap[0];
  }

  push(t: Timer): void {
    t.index = this.#heap.length;
    this.#heap.push(t);
    this.#up(t.index);
    if (t.ref) this.refCount++;
  }

  pop(): Timer | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    this.#removeAt(0);
    return top;
  }

  /** Cancels t if it is still pending; returns whether it was. */
  remove(t: Timer): boolean {
    if (t.index < 0) return false;
    this.#removeAt(t.index);
    return true;
  }

  /** Changes whether a pending timer holds the process open. */
  setRef(t: Timer, ref: boolean): void {
    if (t.index >= 0 && t.ref !== ref) this.refCount += ref ? 1 : -1;
    t.ref = ref;
  }

  #removeAt(i: number): void {
    const h = this.#heap;
    const t = h[i];
    if (t.ref) this.refCount--;
    t.index = -1;
    const last = h.pop()!;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
  }

  #up(i: number): void {
    const h = this.#heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p])) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const t = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], t)) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}
