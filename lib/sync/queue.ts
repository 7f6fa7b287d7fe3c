/**
 * Queue, LifoQueue and PriorityQueue: channels between greenthreads.
 *
 * Getters and putters wait in strict FIFO order (eventlet wakes them in arbitrary order). An
 * item is handed straight to the first waiting getter; if that getter is killed before it
 * resumes, the item goes back (to the next getter, or into the queue where it was): a killed
 * waiter loses nothing.
 *
 * A rendezvous queue (maxsize 0) stores nothing: an item stays with its putter until a getter
 * has resumed with it (see Delivery), and only then does the put return.
 */
import type { AnyGreenThread } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import type { Green, Operation } from '../types';
import { timeoutOf, validateFunction, validateInt, validateOptions } from '../validate';
import { WaitList } from './wait-list';
import { blocking } from '../operation';

/** The storage discipline of a queue. */
interface Store<T> {
  readonly size: number;
  add(item: T): void;
  take(): T;
  /** Puts back an item that was taken but not delivered, where it was. */
  giveBack(item: T): void;
}

class Fifo<T> implements Store<T> {
  #items: T[] = [];
  #head = 0;
  get size(): number {
    return this.#items.length - this.#head;
  }
  add(item: T): void {
    this.#items.push(item);
  }
  take(): T {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  giveBack(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }
}

class Lifo<T> implements Store<T> {
  #items: T[] = [];
  get size(): number {
    return this.#items.length;
  }
  add(item: T): void {
    this.#items.push(item);
  }
  take(): T {
    return this.#items.pop() as T;
  }
  giveBack(item: T): void {
    this.#items.push(item);
  }
}

/** A binary heap; ties keep insertion order (a sequence number breaks them). */
class Heap<T> implements Store<T> {
  #items: Array<{ item: T; seq: number }> = [];
  #seq = 0;
  constructor(readonly compare: (a: T, b: T) => number) {}
  get size(): number {
    return this.#items.length;
  }
  #less(a: { item: T; seq: number }, b: { item: T; seq: number }): boolean {
    const c = this.compare(a.item, b.item);
    return c < 0 || (c === 0 && a.seq < b.seq);
  }
  add(item: T): void {
    this.#insert({ item, seq: this.#seq++ });
  }
  giveBack(item: T): void {
    this.#insert({ item, seq: -1 - this.#seq++ }); // ahead of its equals: it was taken first
  }
  #insert(e: { item: T; seq: number }): void {
    const h = this.#items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  take(): T {
    const h = this.#items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top.item;
  }
}

/**
 * A rendezvous put's item on its way to a getter. It counts as delivered only once a getter
 * resumes with it (a greenthread woken with a value can still be killed before it runs): until
 * then the putter stays parked, and takes the item back if it is killed or times out.
 */
class Delivery<T> {
  /**
   * handed: a woken getter holds it and has not resumed. returned: that getter died with no
   * other getter waiting; it waits for the next get, its putter still parked. taken and
   * withdrawn are final: a getter has it, or its putter took it back.
   */
  state: 'handed' | 'returned' | 'taken' | 'withdrawn' = 'handed';
  constructor(
    readonly item: T,
    /** Parked until the item is taken; undefined for tryPut, which cannot wait. */
    readonly putter: AnyGreenThread | undefined,
  ) {}
}

/** Milliseconds left until deadline (-1: none), for a wait that starts again part way. */
function remainingMs(deadline: number): number {
  return deadline < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
}

function validateMaxsize(maxsize: unknown): number {
  if (maxsize === undefined || maxsize === Infinity) return Infinity;
  return validateInt(maxsize, 'maxsize', 0, Number.MAX_SAFE_INTEGER);
}


/**
 * The shared machinery of the three queues. `maxsize` undefined: unbounded; 0: a rendezvous
 * channel (put returns once a getter has the item).
 */
abstract class BaseQueue<T> {
  #maxsize: number;
  readonly #store: Store<T>;
  readonly #getters: WaitList;
  readonly #putters: WaitList<{ item: T }>;
  readonly #joiners = new WaitList('join()');
  // Rendezvous only (maxsize 0):
  /** Putters whose item was handed to a getter that has not resumed yet (or came back). */
  readonly #handing: WaitList;
  /** Getters whose handed item its putter withdrew before they resumed: first in line. */
  readonly #bounced: WaitList;
  /** Items whose getter died before resuming, no other getter waiting: next gets take them first. */
  readonly #returned: Delivery<T>[] = [];
  #unfinished = 0;

  protected constructor(maxsize: number, store: Store<T>) {
    this.#maxsize = maxsize;
    this.#store = store;
    const name = this.constructor.name;
    this.#getters = new WaitList(`${name}.get()`, (v) => this.#redeliver(v));
    this.#bounced = new WaitList(`${name}.get()`, (v) => this.#redeliver(v));
    this.#putters = new WaitList(`${name}.put()`);
    this.#handing = new WaitList(`${name}.put() (item handed to a getter)`);
  }

  /** The most items it holds (Infinity: unbounded; 0: a rendezvous channel). See resize(). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /**
   * Changes maxsize (undefined or Infinity: unbounded). A larger size lets waiting putters in at
   * once, in FIFO order; a smaller one drops nothing: puts wait until gets bring the size under
   * it. A rendezvous queue cannot become a buffered one or the reverse (a RangeError): its puts
   * wait for a getter, not for room, and those in flight would change meaning.
   *
   * @example
   * ```ts
   * const q = new Queue<Job>(10);
   * q.resize(100); // ten waiting putters get in
   * ```
   */
  resize(maxsize?: number): void {
    const size = validateMaxsize(maxsize);
    if ((size === 0) !== (this.#maxsize === 0)) {
      throw new RangeError(`a rendezvous queue (maxsize 0) cannot be resized to a buffered one or the reverse, got ${size} for a queue of maxsize ${this.#maxsize}`);
    }
    this.#maxsize = size;
    while (this.#store.size < size) {
      const p = this.#putters.takeFirst();
      if (p === undefined) break;
      this.#store.add(p.data.item);
      this.#unfinished++;
      getHub().resumeWith(p.gt, undefined);
    }
  }

  /** Items put and not yet marked with taskDone() (what join() waits for). */
  get unfinishedTasks(): number {
    return this.#unfinished;
  }

  /** Items stored now. */
  get size(): number {
    return this.#store.size;
  }

  /** Whether a put would wait (always true for a rendezvous queue). */
  get full(): boolean {
    return this.#store.size >= this.#maxsize;
  }

  get empty(): boolean {
    return this.#store.size === 0;
  }

  /** Greenthreads waiting in get() (eventlet's `getting()`) — a quick way to see if a put would be taken at once. */
  get getters(): number {
    return this.#getters.length + this.#bounced.length;
  }

  /** Greenthreads waiting in put() (eventlet's `putting()`); on a rendezvous queue, those whose item a getter has not taken yet. */
  get putters(): number {
    return this.#putters.length + this.#handing.length;
  }

  /** What a getter was handed, back from a getter that died before taking it. */
  #redeliver(value: unknown): void {
    if (value instanceof Delivery) {
      this.#redeliverRendezvous(value as Delivery<T>);
      return;
    }
    if (this.#getters.wakeFirst(value) === undefined) this.#store.giveBack(value as T);
  }

  /**
   * Rendezvous: to the next getter, or it waits at the front for the next get while its putter
   * stays parked. Never into the store: a zero-size queue holds nothing.
   */
  #redeliverRendezvous(d: Delivery<T>): void {
    if (d.state !== 'handed') return; // its putter withdrew it already
    if (this.#handOut(d)) return;
    d.state = 'returned';
    this.#returned.push(d);
  }

  /** Rendezvous: hands d to the first waiting getter (bounced ones were first); false if none waits. */
  #handOut(d: Delivery<T>): boolean {
    d.state = 'handed';
    return (this.#bounced.wakeFirst(d) ?? this.#getters.wakeFirst(d)) !== undefined;
  }

  /** Rendezvous: the running getter has d's item; its putter's put returns. */
  #take(d: Delivery<T>): T {
    d.state = 'taken';
    this.#unfinished++;
    const p = d.putter;
    if (p !== undefined) {
      this.#handing.cancelWait(p);
      getHub().resumeWith(p, undefined);
    }
    return d.item;
  }

  /** Rendezvous: the putter's wait ended without delivery (a kill, a timeout): the item is its again. */
  #withdraw(d: Delivery<T>): void {
    if (d.state === 'returned') this.#returned.splice(this.#returned.indexOf(d), 1);
    // A 'handed' getter finds it withdrawn when it resumes, and waits again at the front.
    if (d.state !== 'taken') d.state = 'withdrawn';
  }

  /** Non-blocking put; true when the item was taken or stored. */
  #offer(item: T): boolean {
    if (this.#maxsize === 0) return this.getters > 0 && this.#handOut(new Delivery(item, undefined));
    if (this.#store.size === 0 && this.#getters.wakeFirst(item) !== undefined) {
      this.#unfinished++;
      return true;
    }
    if (this.#store.size < this.#maxsize && this.#putters.length === 0) {
      this.#store.add(item);
      this.#unfinished++;
      return true;
    }
    return false;
  }

  /** Non-blocking get: the next item, or `none`. Space it frees goes to the first putter. */
  #poll(none: { none: true }): T | { none: true } {
    if (this.#store.size > 0) {
      const item = this.#store.take();
      // Room for the first putter (none while a resize() down leaves the queue over its size).
      const p = this.#store.size < this.#maxsize ? this.#putters.takeFirst() : undefined;
      if (p !== undefined) {
        this.#store.add(p.data.item);
        this.#unfinished++;
        getHub().resumeWith(p.gt, undefined);
      }
      return item;
    }
    // A rendezvous: items that came back from dead getters were first…
    const d = this.#returned.shift();
    if (d !== undefined) return this.#take(d);
    // …then take the item straight from the first putter (we run: we have it).
    const p = this.#putters.takeFirst();
    if (p !== undefined) {
      getHub().resumeWith(p.gt, undefined);
      this.#unfinished++;
      return p.data.item;
    }
    return none;
  }

  /**
   * Puts an item, waiting while the queue is full. Throws TimeoutError past timeoutMs (the item
   * is then not in the queue). On a rendezvous queue (maxsize 0) put returns only once a getter
   * has resumed with the item; if that getter is killed first, the item goes to the next getter
   * or stays with the waiting putter, and a kill or timeout of the putter takes it back: put
   * returned means delivered, put threw means not.
   *
   * @example
   * ```ts
   * yield* q.put(job, { timeoutMs: 1000 });
   * ```
   */
  put(item: T, options?: { timeoutMs?: number }): Operation<void> {
    const timeoutMs = timeoutOf(options, 'queue options');
    return blocking(this.#maxsize === 0 ? this.#putRendezvous(item, timeoutMs) : this.#put(item, timeoutMs), 'Queue.put()');
  }

  *#put(item: T, timeoutMs: number): Green<void> {
    if (this.#offer(item)) return;
    yield* this.#putters.wait({ item }, timeoutMs);
  }

  *#putRendezvous(item: T, timeoutMs: number): Green<void> {
    // No getter: wait in line with the item; a getter takes it from us while it runs.
    if (this.getters === 0) {
      yield* this.#putters.wait({ item }, timeoutMs);
      return;
    }
    const d = new Delivery(item, getHub().current);
    this.#handOut(d);
    try {
      yield* this.#handing.wait(undefined, timeoutMs);
    } catch (e) {
      this.#withdraw(d);
      throw e;
    }
  }

  /**
   * Puts without waiting; returns whether it could. On a rendezvous queue: true when a getter
   * was waiting and was handed the item. Nobody waits for that getter to resume, so should it
   * be killed first the item goes to the next getter, or to the next get (never lost).
   *
   * @example
   * ```ts
   * if (!q.tryPut(job)) log.warn('queue full: job dropped');
   * ```
   */
  tryPut(item: T): boolean {
    return this.#offer(item);
  }

  /**
   * Takes the next item, waiting while there is none. Throws TimeoutError past timeoutMs.
   *
   * @example
   * ```ts
   * for (;;) handle(yield* q.get());
   * ```
   */
  get(options?: { timeoutMs?: number }): Operation<T> {
    const timeoutMs = timeoutOf(options, 'queue options');
    return blocking(this.#maxsize === 0 ? this.#getRendezvous(timeoutMs) : this.#get(timeoutMs), 'Queue.get()');
  }

  *#get(timeoutMs: number): Green<T> {
    const none = { none: true as const };
    const r = this.#getters.length === 0 ? this.#poll(none) : none;
    if (r !== none) return r as T;
    return (yield* this.#getters.wait(undefined, timeoutMs)) as T;
  }

  *#getRendezvous(timeoutMs: number): Green<T> {
    const none = { none: true as const };
    const r = this.getters === 0 ? this.#poll(none) : none; // no barging past waiting getters
    if (r !== none) return r as T;
    const deadline = timeoutMs < 0 ? -1 : performance.now() + timeoutMs;
    let line = this.#getters;
    let waitMs = timeoutMs;
    for (;;) {
      const d = (yield* line.wait(undefined, waitMs)) as Delivery<T>;
      if (d.state === 'handed') return this.#take(d);
      // Its putter took it back before we resumed. Something else may be there now; if not,
      // wait again for the rest of the time, at the front: we were first in line.
      const again = this.#poll(none);
      if (again !== none) return again as T;
      line = this.#bounced;
      waitMs = remainingMs(deadline);
    }
  }

  /**
   * Takes an item without waiting, or returns undefined when there is none (check `empty`
   * first if undefined is a value you queue). On a rendezvous queue it takes the item of a
   * waiting putter, whose put then returns.
   *
   * @example
   * ```ts
   * const job = q.tryGet();
   * if (job !== undefined) handle(job);
   * ```
   */
  tryGet(): T | undefined {
    if (this.getters > 0) return undefined;
    const none = { none: true as const };
    const r = this.#poll(none);
    return r === none ? undefined : (r as T);
  }

  /** Marks one item taken with get() as processed (for join()). More calls than items is an error. */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new Error('taskDone() called more times than there were items');
    if (--this.#unfinished === 0) this.#joiners.wakeAll(undefined);
  }

  /**
   * Waits until every item put so far has been marked with taskDone().
   *
   * @example
   * ```ts
   * for (const j of jobs) yield* q.put(j);
   * yield* q.join(); // every job processed
   * ```
   */
  join(options?: { timeoutMs?: number }): Operation<void> {
    const timeoutMs = timeoutOf(options, 'queue options');
    return blocking(this.#join(timeoutMs), 'Queue.join()');
  }

  *#join(timeoutMs: number): Green<void> {
    if (this.#unfinished === 0) return;
    yield* this.#joiners.wait(undefined, timeoutMs);
  }
}

/**
 * A FIFO queue. `new Queue()` is unbounded; `new Queue(n)` holds n items; `new Queue(0)` is a
 * rendezvous channel.
 *
 * @example
 * ```ts
 * const q = new Queue<number>(10);
 * spawn(function* () { for (let i = 0; i < 100; i++) yield* q.put(i); });
 * spawn(function* () { for (;;) console.log(yield* q.get()); });
 * ```
 */
export class Queue<T> extends BaseQueue<T> {
  constructor(maxsize?: number) {
    super(validateMaxsize(maxsize), new Fifo<T>());
  }
}

/**
 * A LIFO queue (a stack): get() returns the newest item.
 *
 * @example
 * ```ts
 * const stack = new LifoQueue<string>();
 * stack.tryPut('a'); stack.tryPut('b');
 * stack.tryGet(); // 'b'
 * ```
 */
export class LifoQueue<T> extends BaseQueue<T> {
  constructor(maxsize?: number) {
    super(validateMaxsize(maxsize), new Lifo<T>());
  }
}

/**
 * Options of {@link PriorityQueue}.
 *
 * @example
 * ```ts
 * const opts: PriorityQueueOptions<Job> = { compare: (a, b) => a.priority - b.priority };
 * ```
 */
export interface PriorityQueueOptions<T> {
  maxsize?: number;
  /** Orders items: negative when a comes first. Default: `<` on the items. Equal items keep insertion order. */
  compare?: (a: T, b: T) => number;
}

/**
 * A priority queue: get() returns the smallest item by `compare`.
 *
 * @example
 * ```ts
 * const q = new PriorityQueue<[number, string]>({ compare: (a, b) => a[0] - b[0] });
 * q.tryPut([2, 'later']); q.tryPut([1, 'first']);
 * q.tryGet(); // [1, 'first']
 * ```
 */
export class PriorityQueue<T> extends BaseQueue<T> {
  constructor(options: PriorityQueueOptions<T> = {}) {
    validateOptions(options, 'PriorityQueue options', ['maxsize', 'compare']);
    const compare = options.compare ?? ((a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0));
    validateFunction(compare, 'compare');
    super(validateMaxsize(options.maxsize), new Heap<T>(compare));
  }
}
