/**
 * trampoline: wait for readiness of an fd the user owns (a pipe, an eventfd, a tty, inotify…),
 * eventlet's `hubs.trampoline`.
 */
import { statFd } from './adopt';
import type { Hub } from '../hub/hub';
import { getHub } from '../hub/hub';
import { waitFdReady } from '../hub/fd-wait';
import { K, native, systemError } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateFd, validateMs } from '../validate';

/** What to wait for: exactly one of `read` / `write`, and an optional timeout. */
export interface TrampolineOptions {
  read?: boolean;
  write?: boolean;
  /** Past this, TimeoutError (`code: 'ETIMEDOUT'`). */
  timeoutMs?: number;
}

const POLL_READ = K.POLLIN | K.POLLHUP | K.POLLERR | K.POLLRDHUP;
const POLL_WRITE = K.POLLOUT | K.POLLHUP | K.POLLERR;

function* trampolineOp(hub: Hub, fd: number, write: boolean, timeoutMs: number | undefined): Green<void> {
  hub.requireCurrent('trampoline()');
  if (hub.hasFdWaiter(fd, write)) {
    throw new Error(`fd ${fd} already has a ${write ? 'writer' : 'reader'} waiting in another greenthread`);
  }
  // Readiness first: an edge consumed before this call must not leave us waiting for ever.
  const r = native.poll(fd, write ? POLL_WRITE : POLL_READ);
  if (r < 0) throw systemError(r, 'poll', { detail: `fd ${fd}` });
  if (r !== 0) return;
  // Registering reports the fd's state at once, so readiness between poll() and here is not lost.
  // The hub keeps green sockets and GreenFds registered; a bare user fd is registered by the
  // first trampoline on it and removed by the last one out (a reader and a writer may overlap).
  if (!hub.poller.isRegistered(fd)) {
    hub.poller.register(fd);
    hub.trampolineFds.add(fd);
  }
  try {
    yield* waitFdReady(hub, fd, write, true, timeoutMs ?? -1, `trampoline on fd ${fd} timed out after ${timeoutMs} ms`);
  } finally {
    // A user's fd may have duplicates elsewhere: take it out of the kernel's set explicitly.
    if (hub.trampolineFds.has(fd) && !hub.hasFdWaiter(fd, !write)) {
      hub.trampolineFds.delete(fd);
      hub.poller.deregister(fd, true);
    }
  }
}

/**
 * Suspends the calling greenthread until `fd` is readable (`{ read: true }`) or writable
 * (`{ write: true }`). Readiness is checked first, so an fd that is already ready returns at
 * once. The fd must be pollable: a regular file is always "ready" to the kernel, so it is an
 * error here. One reader and one writer per fd at a time.
 *
 * @throws TypeError for bad arguments, read and write at once, or a regular file;
 *   TimeoutError past `timeoutMs`; a system error (`EBADF`…) for a bad fd.
 * @example
 * ```ts
 * const efd = eventfdFromSomewhere();
 * yield* trampoline(efd, { read: true, timeoutMs: 1000 });
 * ```
 */
export function trampoline(fd: number, options: TrampolineOptions): Operation<void> {
  validateFd(fd);
  if (options === null || typeof options !== 'object') throw new TypeError(`trampoline options must be an object, got ${describeValue(options)}`);
  const read = options.read === true;
  const write = options.write === true;
  if (read === write) {
    throw new TypeError(read ? 'trampoline waits for read or for write, not both: use two greenthreads' : 'trampoline needs { read: true } or { write: true }');
  }
  const timeoutMs = options.timeoutMs === undefined ? undefined : validateMs(options.timeoutMs, 'timeoutMs');
  const hub = getHub();
  hub.requireCurrent('trampoline()');
  const stat = statFd(fd);
  if (stat.isFile() || stat.isDirectory()) {
    throw new TypeError(`trampoline: fd ${fd} is a regular ${stat.isFile() ? 'file' : 'directory'}, which epoll cannot wait on (it is always ready); read it directly, or with tpool`);
  }
  return trampolineOp(hub, fd, write, timeoutMs);
}

