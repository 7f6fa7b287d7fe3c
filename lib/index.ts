// The public surface of greenhub: re-exports only (DESIGN.md, "Public surface").
export type { Green, GreenThreadStats, Operation, Priority, SpawnOptions } from './types';
export { GreenletExit, TimeoutError } from './errors';
export { GreenThread } from './hub/greenthread';
export { getHub } from './hub/hub';
export type { ErrorHandler, GreenThreadInfo, Hub, HubStats, WarningHandler } from './hub/hub';
export { current, spawn, spawnAfter } from './spawn';
export { cooperate, sleep } from './sleep';
export { waitFor } from './wait-for';
export { trampoline } from './trampoline';
export type { TrampolineOptions } from './trampoline';
export { all, race } from './all';
export { Poller } from './poller';
export type { PollEvent, PollerOptions } from './poller';
