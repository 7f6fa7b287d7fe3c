/**
 * Event: a value (or an error) sent once, waited for by any number of greenthreads.
 */
import type { Green, Operation } from '../types';
import { timeoutOf } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';

/**
 * Sent once (a second send is an error, until reset()), waited for by many. Waiters wake in the order they
 * started waiting (eventlet wakes them in arbitrary order).
 *
 * @example
 * ```ts
 * const done = new Event<string>();
 * spawn(function* () { console.log(yield* done.wait()); });
 * spawn(function* () { yield* sleep(10); done.send('ready'); });
 * ```
 */
export class Event<T = void> {
  #ready = false;
  #value: T | undefined;
  #error: { error: unknown } | undefined;
  readonly #waiters = new WaitList('Event.wait()');

  /** Whether send() or sendError() was called. */
  ready(): boolean {
    return this.#ready;
  }

  /** Sends value to every waiter, now and later. A second send (or sendError) throws. */
  send(value: T): void {
    this.#settle();
    this.#value = value;
    this.#waiters.wakeAll(value);
  }

  /** Makes every wait(), now and later, throw err. */
  sendError(err: unknown): void {
    this.#settle();
    this.#error = { error: err };
    this.#waiters.wakeAll(undefined, this.#error);
  }

  /**
   * Makes a sent event unsent again, for the next send() (eventlet's `Event.reset`). Only after
   * a send (or sendError): resetting an unsent event is an error, as in eventlet, since
   * greenthreads waiting on it would then wait for a send meant for a later round. Waiters woken
   * by the earlier send keep its value; wait() from now on waits for the next send.
   *
   * Why reset() on Event rather than a second, resettable type: a send already wakes every
   * waiter at once and leaves none parked, so an event that has been sent has no waiters to
   * strand, and reset() can only make it fresh again; one type keeps eventlet's names.
   *
   * @example
   * ```ts
   * const tick = new Event<number>();
   * tick.send(1);
   * tick.reset();
   * spawn(function* () { console.log(yield* tick.wait()); }); // 2
   * tick.send(2);
   * ```
   */
  reset(): void {
    if (!this.#ready) throw new Error('Event.reset() of an event that was not sent: reset() makes a sent event fresh again');
    this.#ready = false;
    this.#value = undefined;
    this.#error = undefined;
  }

  #settle(): void {
    if (this.#ready) throw new Error('Event already sent: send() and sendError() may be called once');
    this.#ready = true;
  }

  /**
   * Waits for the value (at once if already sent); throws the error given to sendError, or
   * TimeoutError past timeoutMs.
   *
   * @example
   * ```ts
   * const v = yield* ev.wait({ timeoutMs: 1000 });
   * ```
   */
  wait(options?: { timeoutMs?: number }): Operation<T> {
    const timeoutMs = timeoutOf(options, 'Event.wait options');
    return blocking(this.#wait(timeoutMs), 'Event.wait()');
  }

  *#wait(timeoutMs: number): Green<T> {
    if (this.#ready) {
      if (this.#error) throw this.#error.error;
      return this.#value as T;
    }
    return (yield* this.#waiters.wait(undefined, timeoutMs)) as T;
  }
}
