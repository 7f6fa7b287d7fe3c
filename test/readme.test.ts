// Every TypeScript and JavaScript block in README.md runs as shown, or says on its first line
// that it is a fragment (`// fragment…`). Shell blocks are commands to type and output blocks
// are output: neither is run here.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/raw';

interface Block {
  line: number;
  lang: string;
  code: string;
}

function readmeBlocks(): Block[] {
  const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\w+)?\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ line: start + 1, lang: open[1] ?? '', code: body.join('\n') + '\n' });
  }
  return blocks;
}

const code = readmeBlocks().filter((b) => ['ts', 'js', 'typescript', 'javascript'].includes(b.lang));
const runnable = code.filter((b) => !/^\s*\/\/ fragment/.test(b.code));

// Inside the package's folder, so `require('greenhub')` / `import 'greenhub'` resolve to this
// build through package.json's "exports", as they do in a user's project.
const DIR = path.join(ROOT, '.cache', 'readme-blocks');

describe('README code blocks', () => {
  it('has code blocks, and most of them run', () => {
    expect(code.length).toBeGreaterThan(8);
    expect(runnable.length).toBeGreaterThanOrEqual(6);
  });

  it.each(runnable.map((b) => [b.line, b] as const))('the block at README.md line %i runs and exits 0', (line, b) => {
    fs.mkdirSync(DIR, { recursive: true });
    const isTs = b.lang.startsWith('t');
    const esm = /^\s*import\s/m.test(b.code);
    const file = path.join(DIR, `line-${line}.${isTs ? (esm ? 'mts' : 'cts') : esm ? 'mjs' : 'cjs'}`);
    fs.writeFileSync(file, b.code);
    const runner = isTs ? [path.join(ROOT, 'node_modules/.bin/tsx'), file] : [process.execPath, file];
    const r = spawnSync(runner[0], runner.slice(1), { cwd: DIR, encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });
});
