/**
 * Deadlock diagnosis at exit (gevent's LoopExit, with the names): when Node's loop runs dry
 * ('beforeExit') while greenthreads are still parked on waits that nothing left in the process
 * can end, print one report naming each and what it waits on, and set `process.exitCode = 1`.
 *
 * REPORTED (stuck): a greenthread suspended on an in-process primitive — an Event, a Queue, a
 * Lock or Semaphore, a pool, a scope, all()/race(), serve()'s slot — or on a promise (at
 * 'beforeExit' nothing holds the loop, so nothing greenhub can see will settle it), or in
 * `gt.wait()` on a greenthread that is itself stuck.
 *
 * NOT REPORTED (it waits on something its owner let go on purpose, or on nothing at all):
 * a greenthread sleeping on an unref'd timer (an unref'd loopingCall between runs), parked on an
 * unref'd socket or server, in `sleep(Infinity)` ("until killed"); one that waits (`gt.wait()`,
 * `loopingCall.wait()`) for such a greenthread; and one with a live child (a greenthread it
 * spawned) of that kind — all(), race(), scope() and pools wait for their children, and the
 * hub cannot tell those waits from others. Greenthreads that finished or were killed are gone.
 * The rule errs towards silence: a false alarm would fail a working program.
 *
 * It runs once per hub and never holds the process open. The check is made after every
 * 'beforeExit' listener and the ticks and promise callbacks they start: if any of them made new
 * work (a timer, an immediate, I/O, a woken greenthread) the loop goes on, and the check waits for
 * the next 'beforeExit'. One report per process at most.
 */
import { type AnyGreenThread, State, Wait } from './greenthread';
import type { Hub } from './hub';
import { infoOf } from './introspect';

/** What the greenthreads wait on, by whether the process chose to let go of it. */
function isStuckWait(gt: AnyGreenThread): boolean {
  if (gt.state !== State.Suspended) return false; // new, runnable or running: it can still run
  switch (gt.waitKind) {
    case Wait.Promise:
    case Wait.Custom:
    case Wait.GreenThread:
      return true;
    default:
      // Timer, fd: at 'beforeExit' these hold nothing, so they were unref'd; None: sleep(Infinity).
      return false;
  }
}

/** The live greenthreads nothing can wake any more, in id order. */
export function stuckGreenThreads(hub: Hub): AnyGreenThread[] {
  const live = hub.liveList();
  const stuck = new Set(live.filter(isStuckWait));
  // Who depends on whom: a parent on its children, a gt.wait() on its target.
  const dependents = new Map<AnyGreenThread, AnyGreenThread[]>();
  const add = (on: AnyGreenThread, who: AnyGreenThread): void => {
    const list = dependents.get(on);
    if (list === undefined) dependents.set(on, [who]);
    else list.push(who);
  };
  for (const gt of live) {
    if (gt.parent !== undefined) add(gt, gt.parent);
    if (gt.waitKind === Wait.GreenThread && gt.waitObj !== undefined) add(gt.waitObj as AnyGreenThread, gt);
  }
  // What depends on a greenthread that is not stuck is not stuck either.
  const free = live.filter((gt) => !stuck.has(gt));
  for (let gt = free.pop(); gt !== undefined; gt = free.pop()) {
    for (const d of dependents.get(gt) ?? []) if (stuck.delete(d)) free.push(d);
  }
  return [...stuck].sort((a, b) => a.id - b.id);
}

/** The report: one line per stuck greenthread (name, id, what it waits on and, when known, where). */
export function formatDeadlock(list: AnyGreenThread[]): string {
  const t = performance.now();
  const n = list.length;
  let text =
    `greenhub: deadlock: nothing is left to run (no timer, socket or other I/O holds the process open), ` +
    `yet ${n} greenthread${n === 1 ? '' : 's'} still wait${n === 1 ? 's' : ''} on something nothing can end:\n`;
  for (const gt of list) {
    const info = infoOf(gt, t);
    const site = (info as { waitSite?: string }).waitSite; // debug mode: where the wait was made
    text += `  "${info.name}" (id ${info.id}): waiting on ${info.waitingOn ?? 'nothing'}${site ? `, at ${site}` : ''}\n`;
    if (info.spawnSite) text += `    spawned at:\n${info.spawnSite.replace(/^/gm, '    ')}\n`;
  }
  text += `greenhub: exit code 1 — send what they wait for, or end them when the program is done (kill them; main() shuts down the rest when its root returns)\n`;
  return text;
}

/** Installs the check for this hub (called once, when the hub is made). */
export function installExitCheck(hub: Hub): void {
  let reported = false;
  const onBeforeExit = (): void => {
    if (reported) return;
    // Resources listed now do not hold the loop (stdio pipes are listed, yet 'beforeExit' came).
    const before = process.getActiveResourcesInfo();
    // After every listener (ours runs first), the promise callbacks they start (a microtask
    // checkpoint drains them all, chains included, before the tick queued from one runs) and the
    // ticks queued before ours.
    queueMicrotask(() => process.nextTick(check, before));
  };
  const check = (before: string[]): void => {
    if (reported || hub.stats().runnable > 0 || madeWork(before, process.getActiveResourcesInfo())) return;
    const list = stuckGreenThreads(hub);
    if (list.length === 0) return;
    reported = true;
    process.stderr.write(formatDeadlock(list));
    if (!process.exitCode) process.exitCode = 1;
  };
  process.prependListener('beforeExit', onBeforeExit);
}

/** Whether `after` lists a resource `before` did not (a listener started new work). */
function madeWork(before: string[], after: string[]): boolean {
  const count = new Map<string, number>();
  for (const r of before) count.set(r, (count.get(r) ?? 0) + 1);
  for (const r of after) {
    const c = count.get(r) ?? 0;
    if (c === 0) return true;
    count.set(r, c - 1);
  }
  return false;
}
