/**
 * Ending every greenthread: killAll() and shutdown(). Many kills run as one change (the hub
 * recomputes what holds the process once), and share one error: an Error's stack trace costs
 * more than the kill itself.
 */
import { GreenletExit } from '../errors';
import { NO_ERROR } from './greenthread';
import type { Hub } from './hub';

/** Kills every live greenthread but the caller; one on the stack below it dies at its next suspension. */
export function killAll(hub: Hub, err?: unknown): void {
  hub.killEach(hub.liveList().filter((gt) => gt !== hub.current), err ?? new GreenletExit());
}

/** Kills round after round until none is left (a finally that suspends is killed there next round); the caller last. */
export function shutdown(hub: Hub): void {
  for (let round = 0; round < 100; round++) {
    const victims = hub.liveList().filter((gt) => gt !== hub.current && gt.pendingKill === NO_ERROR);
    if (victims.length === 0) break;
    hub.killEach(victims, new GreenletExit('hub shut down'));
  }
  if (hub.current) hub.kill(hub.current, new GreenletExit('hub shut down'));
}
