import * as fs from 'node:fs';

/** The fds open in this process right now. */
export function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd');
}

/** Where each open fd points (for a readable failure message). */
export function describeFds(fds: string[]): string[] {
  return fds.map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd} -> (gone)`;
    }
  });
}
