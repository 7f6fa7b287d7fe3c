/**
 * trampoline: wait for readiness of an fd the user owns (a pipe, an eventfd, a tty, inotify…),
 * eventlet's `hubs.trampoline`.
 */
import { identityOf, statFd } from './adopt';
import { type Direction, type FdTable, waitFdReady } from '../hub/fd-table';
import { getHub } from '../hub/hub';
import { K, native } from '../native';
import { roleTakenError, systemError } from '../errors';
import type { Green, Operation } from '../types';
import { validateBoolean, validateFd, validateMs, validateOptions } from '../validate';
import { blocking } from '../operation';

/**
 * What `trampoline` waits for: exactly one of `read` / `write`, and an optional timeout.
 *
 * @example
 * ```ts
 * const opts: TrampolineOptions = { read: true, timeoutMs: 1000 };
 * yield* trampoline(fd, opts);
 * ```
 */
export interface TrampolineOptions {
  read?: boolean;
  write?: boolean;
  /** Past this, TimeoutError (`code: 'ETIMEDOUT'`). */
  timeoutMs?: number;
}

/** poll(2) events that count as ready for reading / writing (a hang-up or error is ready both ways). */
export const POLL_READ = K.POLLIN | K.POLLHUP | K.POLLERR | K.POLLRDHUP;
export const POLL_WRITE = K.POLLOUT | K.POLLHUP | K.POLLERR;

function* trampolineOp(fds: FdTable, fd: number, identity: string, dir: Direction, timeoutMs: number | undefined): Green<void> {
  fds.hub.requireCurrent('trampoline()');
  yield* waitReadyOnce(fds, fd, identity, dir, timeoutMs, 'trampoline');
}

/**
 * @internal trampoline's wait, also waitAny's: returns true when fd was ready at once, false
 * after one park woke (an edge: the caller may poll again). `identity` (dev:ino) for a user's
 * bare fd, registered here while waited on; undefined for the fd of a green handle, which the
 * hub keeps registered (the caller checks that the handle is open). `ref`: the park holds
 * the process open (an unref'd handle's does not).
 */
export function* waitReadyOnce(fds: FdTable, fd: number, identity: string | undefined, dir: Direction, timeoutMs: number | undefined, what: string, ref = true): Green<boolean> {
  const other = fds.waiter(fd, dir);
  if (other !== undefined) throw roleTakenError(`fd ${fd}`, dir === 'write' ? 'writer' : 'reader', other);
  // Readiness first: an edge consumed before this call must not leave us waiting for ever.
  const r = native.poll(fd, dir === 'write' ? POLL_WRITE : POLL_READ);
  if (r < 0) throw systemError(r, 'poll', { detail: `fd ${fd}` });
  if (r !== 0) return true;
  // Registering reports the fd's state at once, so readiness between poll() and here is not lost.
  // The hub keeps green sockets and GreenFds registered; a bare user fd is registered by the
  // first trampoline on it and removed by the last one out (a reader and a writer may overlap).
  // A registration left by a file closed behind greenhub's back, whose number is now this
  // file's, would never wake us: take it over.
  if (identity !== undefined) {
    if (fds.isStale(fd, identity)) fds.evict(fd);
    if (!fds.poller.isRegistered(fd)) {
      fds.register(fd, undefined, identity);
      fds.trampolineFds.add(fd);
    }
  }
  try {
    yield* waitFdReady(fds, fd, dir, { ref, timeoutMs: timeoutMs ?? -1, timeoutMessage: `${what} on fd ${fd} timed out after ${timeoutMs} ms` });
  } finally {
    // A user's fd may have duplicates elsewhere: take it out of the kernel's set explicitly.
    if (fds.trampolineFds.has(fd) && !fds.hasWaiter(fd, dir === 'write' ? 'read' : 'write')) {
      fds.trampolineFds.delete(fd);
      fds.close(fd, () => undefined, { removeFromKernel: true });
    }
  }
  return false;
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
  if (options === undefined) throw new TypeError('trampoline needs { read: true } or { write: true }, got undefined');
  validateOptions(options, 'trampoline options', ['read', 'write', 'timeoutMs']);
  const read = validateBoolean(options.read, 'read', false);
  const write = validateBoolean(options.write, 'write', false);
  if (read === write) {
    throw new TypeError(`${read ? 'trampoline waits for read or for write, not both: use two greenthreads' : 'trampoline needs { read: true } or { write: true }'}, got { read: ${read}, write: ${write} }`);
  }
  const timeoutMs = options.timeoutMs === undefined ? undefined : validateMs(options.timeoutMs, 'timeoutMs');
  const hub = getHub();
  const stat = statFd(fd);
  if (stat.isFile() || stat.isDirectory()) {
    throw new TypeError(`trampoline: fd ${fd} is a regular ${stat.isFile() ? 'file' : 'directory'}, which epoll cannot wait on (it is always ready); read it directly, or with tpool`);
  }
  return blocking(trampolineOp(hub.fds, fd, identityOf(stat), write ? 'write' : 'read', timeoutMs), 'trampoline()');
}

