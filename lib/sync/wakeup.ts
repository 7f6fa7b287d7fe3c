/**
 * A place for greenthreads to wait until Node-side code says something changed (internal):
 * the bridge between stream events and greenthreads.
 */
import { WaitList } from './wait-list';
import type { Operation } from '../types';

export class Wakeup {
  readonly #waiters: WaitList;
  constructor(label: string) {
    this.#waiters = new WaitList(label);
  }
  /** Parks the running greenthread until the next notify(), or past timeoutMs (>= 0) a TimeoutError. */
  wait(timeoutMs = -1, owner?: object): Operation<unknown> {
    return this.#waiters.wait(undefined, timeoutMs, owner);
  }
  /** Wakes every greenthread waiting (safe from any Node callback). */
  notify(): void {
    this.#waiters.wakeAll(undefined);
  }
}
