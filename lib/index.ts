// The public surface of greenhub: re-exports only (DESIGN.md, "Public surface").
export { Poller } from './poller';
export type { PollEvent, PollerOptions } from './poller';
