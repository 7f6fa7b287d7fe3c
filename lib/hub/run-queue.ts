/**
 * A FIFO of (greenthread, wake sequence) pairs in a growable ring: no allocation per push or
 * shift once it has grown to the working size. The sequence number lets a stale entry (the
 * greenthread was killed, or woken another way, after it was queued) be skipped in O(1)
 * instead of searched for and removed.
 */
import type { AnyGreenThread } from './greenthread';

export class RunQueue {
  #items: (AnyGreenThread | undefined)[] = new Array(64);
  #seqs = new Float64Array(64);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(gt: AnyGreenThread, seq: number): void {
    if (this.#length === this.#items.length) this.#grow();
    const i = (this.#head + this.#length) & (this.#items.length - 1);
    this.#items[i] = gt;
    this.#seqs[i] = seq;
    this.#length++;
  }

  /** The sequence of the entry `shift()` would return next. */
  peekSeq(): number {
    return this.#seqs[this.#head];
  }

  shift(): AnyGreenThread {
    const gt = this.#items[this.#head]!;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return gt;
  }

  /** Moves every entry to the back of `to`, keeping their order and sequences. */
  drainInto(to: RunQueue): void {
    while (this.#length > 0) {
      const seq = this.peekSeq();
      to.push(this.shift(), seq);
    }
  }

  #grow(): void {
    const n = this.#items.length;
    const items: (AnyGreenThread | undefined)[] = new Array(n * 2);
    const seqs = new Float64Array(n * 2);
    for (let k = 0; k < this.#length; k++) {
      const j = (this.#head + k) & (n - 1);
      items[k] = this.#items[j];
      seqs[k] = this.#seqs[j];
    }
    this.#items = items;
    this.#seqs = seqs;
    this.#head = 0;
  }
}
