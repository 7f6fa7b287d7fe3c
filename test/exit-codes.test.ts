// Issue 15, item 5: an uncaught greenthread error handled by the DEFAULT error handler sets
// process.exitCode = 1 (like Node's unhandled rejection), and the hub keeps running; a handler
// of the user's (getHub().onError) decides the exit code for itself. Child processes: the exit
// code is the point.
import { describe, expect, it } from 'vitest';
import { node } from './helpers/green';

describe('exit code of an uncaught greenthread error (child processes)', () => {
  it('is 1 when the default handler prints it, and the hub keeps running', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      spawn(function* exploder() { yield* sleep(1); throw new Error('kaboom'); });
      spawn(function* after() { yield* sleep(20); console.log('hub still runs, exitCode ' + process.exitCode); });
    `);
    expect(r.stderr).toContain('uncaught error in greenthread "exploder"');
    expect(r.stderr).toContain('Error: kaboom');
    expect(r.stdout.trim()).toBe('hub still runs, exitCode 1');
    expect(r.status).toBe(1);
  });

  it('is 1 for an error of a greenthread that never started (killed with an error from async code)', () => {
    const r = node(`
      const { spawn } = require('./dist');
      spawn(function* never() {}).kill(new Error('killed with a cause'));
    `);
    expect(r.stderr).toContain('Error: killed with a cause');
    expect(r.status).toBe(1);
  });

  it("is left to a handler of the user's: one that only logs leaves it unset, one that sets a code gets it; onError(null) brings the default back", () => {
    const r = node(`
      const { getHub, spawn, sleep } = require('./dist');
      getHub().onError((err, gt) => console.log('logged ' + gt.name + ': ' + err.message + ', exitCode ' + process.exitCode));
      spawn(function* first() { throw new Error('kaboom'); });
      spawn(function* () {
        yield* sleep(5);
        console.log('after the logging handler: exitCode ' + process.exitCode);
        getHub().onError(null);
        spawn(function* second() { throw new Error('printed'); });
      });
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['logged first: kaboom, exitCode undefined', 'after the logging handler: exitCode undefined']);
    expect(r.stderr).toContain('uncaught error in greenthread "second"');
    expect(r.stderr).not.toContain('kaboom');
    expect(r.status).toBe(1);

    const decides = node(`
      const { getHub, spawn } = require('./dist');
      getHub().onError(() => { process.exitCode = 7; });
      spawn(function* exploder() { throw new Error('kaboom'); });
    `);
    expect(decides.status).toBe(7);
  });

  it('is not set by an error someone observed (then, wait, link) nor by a kill (GreenletExit); an unobserved one after them sets it', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      spawn(function* a() { throw new Error('awaited'); }).then(null, (e) => console.log('then ' + e.message));
      const b = spawn(function* b() { yield* sleep(1); throw new Error('waited'); });
      spawn(function* () { try { yield* b.wait(); } catch (e) { console.log('wait ' + e.message); } });
      spawn(function* c() { throw new Error('linked'); }).link((gt) => console.log('link ' + gt.name));
      const d = spawn(function* d() { yield* sleep(10_000); });
      spawn(function* () { yield* sleep(5); d.kill(); });
      spawn(function* last() {
        yield* sleep(30);
        console.log('exitCode ' + process.exitCode);
        throw new Error('nobody looks');
      });
    `);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['exitCode undefined', 'link c', 'then awaited', 'wait waited']);
    expect(r.stderr).toContain('uncaught error in greenthread "last"');
    expect(r.stderr).not.toMatch(/awaited|waited|linked|GreenletExit/);
    expect(r.status).toBe(1);
  });

  it('does not replace an exit code the program already set', () => {
    const r = node(`
      const { spawn } = require('./dist');
      process.exitCode = 3;
      spawn(function* exploder() { throw new Error('kaboom'); });
    `);
    expect(r.stderr).toContain('Error: kaboom');
    expect(r.status).toBe(3);
  });
});
