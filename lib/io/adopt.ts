/**
 * Adopting a socket fd the process already owns (socket activation, a parent process).
 */
import * as fs from 'node:fs';
import { K, check, native } from '../native';
import { systemError } from '../errors';
import { validateFd } from '../validate';

/** @internal fstat of a user's fd, as a Node-style system error naming the fd when it fails. */
export function statFd(fd: number): fs.Stats {
  try {
    return fs.fstatSync(fd);
  } catch (e) {
    throw systemError((e as NodeJS.ErrnoException).errno ?? -9, 'fstat', { detail: `fd ${fd}` });
  }
}

/** @internal Checks that fd is a stream socket (listening or not, as asked); returns its family. */
export function adoptableSocket(fd: number, what: string, want: { listening: boolean }): { af: number; path: string | undefined; identity: string } {
  validateFd(fd);
  const stat = statFd(fd);
  if (!stat.isSocket()) throw new TypeError(`${what}: fd ${fd} is not a socket`);
  const type = check(native.getsockopt(fd, K.SOL_SOCKET, K.SO_TYPE), 'getsockopt');
  if (type !== K.SOCK_STREAM) throw new TypeError(`${what}: fd ${fd} is not a stream socket (use udpSocket for datagrams)`);
  const acc = check(native.getsockopt(fd, K.SOL_SOCKET, K.SO_ACCEPTCONN), 'getsockopt') === 1;
  if (acc !== want.listening) {
    throw new TypeError(`${what}: fd ${fd} is ${acc ? 'a listening socket: adopt it with listenFd()' : 'not listening: adopt it with GreenSocket.fromFd()'}`);
  }
  const addr = native.getsockname(fd);
  if (typeof addr === 'number') throw systemError(addr, 'getsockname');
  check(native.setNonBlocking(fd), 'fcntl');
  native.own(fd); // closed with this thread's environment from now on
  return { af: addr.family, path: addr.family === K.AF_UNIX ? addr.address : undefined, identity: identityOf(stat) };
}

/** @internal An open file's identity (dev:ino): tells a reused fd number from the file it had. */
export function identityOf(stat: fs.Stats): string {
  return `${stat.dev}:${stat.ino}`;
}

