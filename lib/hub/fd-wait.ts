/**
 * Parking a greenthread on an fd: the one primitive green I/O is built on. The caller has tried
 * the syscall and got EAGAIN (or knows from the readiness cache that it would): it waits for
 * the next edge, with an optional timeout.
 */
import type { Hub } from './hub';
import { RESUME, SUSPEND_RESULT, done } from './instructions';
import { TimerKind } from './timers';
import type { Green, Operation } from '../types';

class FdWaitOp implements Operation<number>, Iterator<unknown, number, unknown> {
  constructor(readonly hub: Hub, readonly fd: number, readonly write: boolean, readonly ref: boolean) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, number> {
    const gt = this.hub.requireCurrent('waiting on an fd');
    if (v === RESUME) return done(gt.resumeValue as number);
    this.hub.waitFd(gt, this.fd, this.write, this.ref);
    return SUSPEND_RESULT;
  }
  throw(err: unknown): IteratorResult<unknown, number> {
    throw err;
  }
}

/**
 * Waits until fd is readable (or writable, when `write`). `ref`: the wait holds the process open.
 * Past `timeoutMs` (when >= 0; pass -1 for none) a TimeoutError with `timeoutMessage` is thrown; the timer is gone
 * either way when this returns or throws.
 */
export function* waitFdReady(hub: Hub, fd: number, write: boolean, ref: boolean, timeoutMs: number, timeoutMessage: string): Green<number> {
  if (!(timeoutMs >= 0)) return yield* new FdWaitOp(hub, fd, write, ref);
  const gt = hub.requireCurrent('waiting on an fd');
  const timer = hub.addTimer(timeoutMs, TimerKind.Timeout, gt, undefined, ref, timeoutMessage);
  try {
    return yield* new FdWaitOp(hub, fd, write, ref);
  } finally {
    hub.cancelTimer(timer);
  }
}
