/**
 * A role on a handle that one greenthread holds at a time: the reader, the writer, the
 * acceptor. A second concurrent greenthread gets a clear error instead of interleaved bytes.
 * The same greenthread may take it again (a buffered read inside a read): `take` returns the
 * previous holder and `give` restores it.
 */
import { roleTakenError } from '../errors';
import type { AnyGreenThread } from '../hub/greenthread';

export class Role {
  /** The greenthread that holds it now, if any. */
  holder: AnyGreenThread | undefined;

  constructor(readonly name: string) {}

  /** Takes the role for gt; `what` names the handle in the error ("socket"). Returns the previous holder. */
  take(gt: AnyGreenThread, what: string): AnyGreenThread | undefined {
    const other = this.holder;
    if (other !== undefined && other !== gt && !other.dead) throw roleTakenError(what, this.name, other);
    this.holder = gt;
    return other;
  }

  /** Gives the role back to whoever held it before `take`. */
  give(prev: AnyGreenThread | undefined): void {
    this.holder = prev;
  }
}
