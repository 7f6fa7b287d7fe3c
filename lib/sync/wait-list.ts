/**
 * A FIFO of greenthreads waiting in a coordination primitive (internal). Every primitive's
 * waiters are strictly FIFO, and a killed (or timed-out) waiter leaves the list at once. A
 * waiter that was handed a value (a permit, an item) but was killed before it resumed gives
 * the value back through `onGiveBack`: nothing is lost or given to a dead greenthread.
 */
import { type AnyGreenThread, Wait, type Handoff, type Waitable } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { SUSPEND_OP } from '../hub/instructions';
import { TimerKind, isTimeoutOf } from '../hub/timers';
import type { Green } from '../types';

interface Entry<D> {
  gt: AnyGreenThread;
  data: D;
}

export class WaitList<D = undefined> implements Waitable, Handoff {
  #entries: Entry<D>[] = [];
  #head = 0;

  constructor(
    readonly label: string,
    /** Receives a value handed to a waiter that was killed before it took it. */
    readonly onGiveBack?: (value: unknown) => void,
  ) {}

  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Data of the first waiter (the put item of a putter, say). */
  peek(): D | undefined {
    return this.length > 0 ? this.#entries[this.#head].data : undefined;
  }

  /**
   * Parks the current greenthread at the back until woken; returns what it was handed. Past
   * `timeoutMs` (>= 0) it throws the TimeoutError.
   */
  *wait(data: D, timeoutMs: number): Green<unknown> {
    const r = yield* this.#park(data, timeoutMs, 'throw');
    return r.value;
  }

  /** Like wait(), but a timeout of its own returns `timedOut: true` instead of throwing. */
  waitOrTimeout(data: D, timeoutMs: number): Green<{ timedOut: boolean; value: unknown }> {
    return this.#park(data, timeoutMs, 'return');
  }

  *#park(data: D, timeoutMs: number, onOwnTimeout: 'throw' | 'return'): Green<{ timedOut: boolean; value: unknown }> {
    const hub = getHub();
    const gt = hub.requireCurrent(this.label);
    this.#entries.push({ gt, data });
    gt.waitKind = Wait.Custom;
    gt.waitObj = this;
    const timer = timeoutMs >= 0 ? hub.addTimer(TimerKind.Timeout, timeoutMs, gt, { ref: true, message: `${this.label} timed out after ${timeoutMs} ms` }) : undefined;
    try {
      return { timedOut: false, value: yield* SUSPEND_OP };
    } catch (e) {
      if (onOwnTimeout === 'return' && timer && isTimeoutOf(e, timer)) return { timedOut: true, value: undefined };
      throw e;
    } finally {
      if (timer) hub.cancelTimer(timer);
    }
  }

  /** Removes the first waiter and wakes it with `value`, as a handoff (given back if it dies first). */
  wakeFirst(value: unknown): AnyGreenThread | undefined {
    const e = this.#shift();
    if (e === undefined) return undefined;
    const hub = getHub();
    hub.resumeWith(e.gt, value);
    if (this.onGiveBack) e.gt.handoff = this;
    return e.gt;
  }

  /** Removes the first waiter and returns it with its data, without waking it. */
  takeFirst(): Entry<D> | undefined {
    return this.#shift();
  }

  /** Wakes every waiter with value (or throws err into each), in order. */
  wakeAll(value: unknown, err?: { error: unknown }): void {
    const hub = getHub();
    for (let e = this.#shift(); e !== undefined; e = this.#shift()) {
      if (err) hub.resumeThrow(e.gt, err.error);
      else hub.resumeWith(e.gt, value);
    }
  }

  #shift(): Entry<D> | undefined {
    if (this.#head >= this.#entries.length) return undefined;
    const e = this.#entries[this.#head];
    this.#entries[this.#head++] = undefined as never;
    if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }

  cancelWait(gt: AnyGreenThread): void {
    for (let i = this.#head; i < this.#entries.length; i++) {
      if (this.#entries[i].gt === gt) {
        this.#entries.splice(i, 1);
        return;
      }
    }
  }

  describeWait(gt: AnyGreenThread): string {
    let pos = 0;
    for (let i = this.#head; i < this.#entries.length; i++, pos++) if (this.#entries[i].gt === gt) break;
    return `${this.label} (${pos + 1} of ${this.length} waiting)`;
  }

  giveBack(_gt: AnyGreenThread, value: unknown): void {
    this.onGiveBack?.(value);
  }
}
