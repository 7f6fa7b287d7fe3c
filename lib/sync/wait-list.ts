/**
 * A FIFO of greenthreads waiting in a coordination primitive (internal). Every primitive's
 * waiters are strictly FIFO, and a killed (or timed-out) waiter leaves the list at once, in
 * O(1): each wait is a node of a linked list (lib/hub/wait-queue.ts), found through its
 * greenthread. A waiter that was handed a value (a permit, an item) but was killed before it
 * resumed gives the value back through `onGiveBack`: nothing is lost or given to a dead
 * greenthread.
 *
 * A wait is one small hand-written operation (no generator per wait): 1,000,000 parked
 * greenthreads cost their own generators and little more.
 */
import { type AnyGreenThread, Wait, type Handoff, type Waitable } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { RESUME, SUSPEND_RESULT, done } from '../hub/instructions';
import { type Timer, TimerKind, isTimeoutOf } from '../hub/timers';
import { WaitNode, WaitQueue } from '../hub/wait-queue';
import type { Operation } from '../types';

/** What waitOrTimeout returns. */
export interface WaitOutcome {
  timedOut: boolean;
  value: unknown;
}

/** One greenthread's wait in a WaitList: the list's node and the operation it suspends in. */
class ParkOp<D> extends WaitNode implements Operation<unknown>, Iterator<unknown, unknown, unknown> {
  #timer: Timer | undefined;
  #started = false;

  constructor(
    readonly list: WaitList<D>,
    readonly data: D,
    readonly timeoutMs: number,
    /** Its own timeout returns { timedOut: true } instead of throwing (waitOrTimeout). */
    readonly quiet: boolean,
    /** What a TimeoutError of this wait says timed out (timeoutOwner). */
    readonly owner?: object,
  ) {
    super();
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, unknown> {
    const hub = getHub();
    if (this.#started && v === RESUME) {
      const value = hub.current!.resumeValue;
      this.#end();
      return done(this.quiet ? { timedOut: false, value } : value);
    }
    this.#started = true;
    const gt = hub.requireCurrent(this.list.label);
    this.gt = gt;
    this.list.queue.push(this);
    gt.waitKind = Wait.Custom;
    gt.waitObj = this.list;
    gt.waitNode = this;
    if (this.timeoutMs >= 0) {
      this.#timer = hub.addTimer(TimerKind.Timeout, this.timeoutMs, gt, { ref: true, message: `${this.list.label} timed out after ${this.timeoutMs} ms`, owner: this.owner });
    }
    return SUSPEND_RESULT;
  }

  throw(err: unknown): IteratorResult<unknown, unknown> {
    const timer = this.#timer;
    this.#end();
    if (this.quiet && timer !== undefined && isTimeoutOf(err, timer)) return done({ timedOut: true, value: undefined });
    throw err;
  }

  return(value?: unknown): IteratorResult<unknown, unknown> {
    this.#end();
    return { done: true, value };
  }

  #end(): void {
    if (this.#timer !== undefined) getHub().cancelTimer(this.#timer);
    this.#timer = undefined;
    this.list.queue.remove(this);
    if (this.gt !== undefined && this.gt.waitNode === this) this.gt.waitNode = undefined;
  }
}

export class WaitList<D = undefined> implements Waitable, Handoff {
  /** @internal */ readonly queue = new WaitQueue<ParkOp<D>>();

  constructor(
    readonly label: string,
    /** Receives a value handed to a waiter that was killed before it took it. */
    readonly onGiveBack?: (value: unknown) => void,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  /** Data of the first waiter (the put item of a putter, say). */
  peek(): D | undefined {
    return this.queue.first?.data;
  }

  /**
   * Parks the current greenthread at the back until woken; returns what it was handed. Past
   * `timeoutMs` (>= 0) it throws the TimeoutError.
   */
  wait(data: D, timeoutMs: number, owner?: object): Operation<unknown> {
    return new ParkOp(this, data, timeoutMs, false, owner);
  }

  /** Like wait(), but a timeout of its own returns `timedOut: true` instead of throwing. */
  waitOrTimeout(data: D, timeoutMs: number): Operation<WaitOutcome> {
    return new ParkOp(this, data, timeoutMs, true) as Operation<WaitOutcome>;
  }

  /** Removes the first waiter and wakes it with `value`, as a handoff (given back if it dies first). */
  wakeFirst(value: unknown): AnyGreenThread | undefined {
    const node = this.queue.shift();
    if (node === undefined) return undefined;
    const gt = node.gt!;
    getHub().resumeWith(gt, value);
    if (this.onGiveBack) gt.handoff = this;
    return gt;
  }

  /** Removes the first waiter and returns it with its data, without waking it. */
  takeFirst(): { gt: AnyGreenThread; data: D } | undefined {
    const node = this.queue.shift();
    return node === undefined ? undefined : { gt: node.gt!, data: node.data };
  }

  /** Wakes every waiter with value (or throws err into each), in order. */
  wakeAll(value: unknown, err?: { error: unknown }): void {
    const hub = getHub();
    for (let node = this.queue.shift(); node !== undefined; node = this.queue.shift()) {
      if (err) hub.resumeThrow(node.gt!, err.error);
      else hub.resumeWith(node.gt!, value);
    }
  }

  cancelWait(gt: AnyGreenThread): void {
    if (gt.waitNode !== undefined) this.queue.remove(gt.waitNode as ParkOp<D>);
  }

  describeWait(gt: AnyGreenThread): string {
    const pos = gt.waitNode === undefined ? 0 : this.queue.positionOf(gt.waitNode as ParkOp<D>);
    return `${this.label} (${pos} of ${this.length} waiting)`;
  }

  giveBack(_gt: AnyGreenThread, value: unknown): void {
    this.onGiveBack?.(value);
  }
}
