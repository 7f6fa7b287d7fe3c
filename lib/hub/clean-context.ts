/**
 * The hub's own async context: greenthreads run in it, never in the context of whoever woke
 * them (a promise's callback, a Node timer, the code that first touched the hub). Without it,
 * every greenthread resumed from the poller would see the AsyncLocalStorage store that was
 * active when the hub was created, for the life of the process.
 *
 * AsyncLocalStorage (Node 20) keeps its store on the current async resource under a symbol
 * named `kResourceStore`, copied onto each new resource from the one running when it was
 * made. This resource gets none: inside it, `getStore()` of every AsyncLocalStorage is
 * undefined.
 */
import { AsyncResource } from 'node:async_hooks';

export function cleanAsyncContext(): AsyncResource {
  const resource = new AsyncResource('greenhub');
  const own = resource as unknown as Record<symbol, unknown>;
  for (const key of Object.getOwnPropertySymbols(resource)) {
    if (key.description === 'kResourceStore') delete own[key];
  }
  return resource;
}
