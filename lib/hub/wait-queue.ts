/**
 * A FIFO of waiting greenthreads with O(1) push, shift and removal from anywhere: a doubly
 * linked list whose nodes are the waits themselves (no array to search or splice). Killing or
 * timing out one waiter among 100,000 costs the same as among 10.
 */
import type { AnyGreenThread } from './greenthread';

export class WaitNode {
  /** @internal the waiting greenthread */ gt: AnyGreenThread | undefined;
  /** @internal */ before: WaitNode | undefined;
  /** @internal */ after: WaitNode | undefined;
  /** @internal the queue it is in, if any */ queue: WaitQueue<WaitNode> | undefined;
}

export class WaitQueue<N extends WaitNode> {
  #head: N | undefined;
  #tail: N | undefined;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The first node, if any. */
  get first(): N | undefined {
    return this.#head;
  }

  /** Appends node (which must be in no queue). */
  push(node: N): void {
    node.queue = this as WaitQueue<WaitNode>;
    node.before = this.#tail;
    node.after = undefined;
    if (this.#tail) this.#tail.after = node;
    else this.#head = node;
    this.#tail = node;
    this.#length++;
  }

  /** Removes and returns the first node. */
  shift(): N | undefined {
    const node = this.#head;
    if (node !== undefined) this.remove(node);
    return node;
  }

  /** Removes node if it is in this queue; returns whether it was. */
  remove(node: N): boolean {
    if (node.queue !== (this as WaitQueue<WaitNode>)) return false;
    if (node.before) node.before.after = node.after;
    else this.#head = node.after as N | undefined;
    if (node.after) node.after.before = node.before;
    else this.#tail = node.before as N | undefined;
    node.before = node.after = undefined;
    node.queue = undefined;
    this.#length--;
    return true;
  }

  /** The 1-based position of node (for dump(): linear, never on a hot path). */
  positionOf(node: N): number {
    let i = 1;
    for (let n = this.#head; n !== undefined; n = n.after as N | undefined, i++) if (n === node) return i;
    return 0;
  }
}
