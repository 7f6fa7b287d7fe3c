// The nova scenario (examples/nova-heartbeat.ts) in its three modes, each against the naive
// run measured in the same test: a heartbeat every 100 ms beside a CPU hog.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/green';

const HOG_MS = 600;

function scenario(mode: string): { max: number; p99: number; out: string } {
  const out = execFileSync(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(ROOT, 'examples/nova-heartbeat.ts'), mode, '--runs', '2', '--hog-ms', String(HOG_MS)],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const m = /heartbeat lateness: max ([\d.]+) ms, p99 ([\d.]+) ms/.exec(out);
  if (!m) throw new Error(`no lateness line in:\n${out}`);
  return { max: Number(m[1]), p99: Number(m[2]), out };
}

describe('nova heartbeat scenario', () => {
  it('naive: the heartbeat is late by about the hog\'s length, and the report names periodic_task and the hog', () => {
    const naive = scenario('naive');
    expect(naive.max).toBeGreaterThanOrEqual(HOG_MS * 0.5);
    expect(naive.out).toMatch(/greenthread "periodic_task" \(id \d+\) blocked the hub for \d+ ms/);
    expect(naive.out).toMatch(/at updateAvailableResource \(/);

    // Against the naive lateness of this same run: cooperate and tpool defuse the hog.
    for (const mode of ['cooperate', 'tpool']) {
      const r = scenario(mode);
      expect(r.max, `${mode} max lateness vs naive ${naive.max}`).toBeLessThan(naive.max / 4);
      expect(r.max, `${mode} max lateness`).toBeLessThan(300);
    }
  });
});
