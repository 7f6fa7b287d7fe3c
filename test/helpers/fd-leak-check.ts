// Every test file must leave the process with the fds it found: the count is taken after the
// module's own fds exist (greenhub loaded and its hub created, before the file's tests) and compared after them.
import { afterAll, beforeAll, expect } from 'vitest';
import { getHub } from '../../lib/hub/hub';
import { describeFds, openFds } from './fds';

let before: string[] = [];

beforeAll(() => {
  getHub(); // the hub's epoll fd lives as long as the thread
  before = openFds();
});

afterAll(async () => {
  // Worker threads and child processes release their fds as they are reaped.
  for (let i = 0; i < 50 && openFds().length !== before.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const after = openFds();
  const leaked = after.filter((fd) => !before.includes(fd));
  expect(describeFds(leaked), 'fds leaked by this test file').toEqual([]);
  expect(after.length).toBe(before.length);
});
