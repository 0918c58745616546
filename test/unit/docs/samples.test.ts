// Command samples in the docs are real output: every fenced block in README.md and docs/*.md
// that starts with `$ metallb-ts …` (and whose command reads only files of this repository) must
// print exactly the lines that follow it. A change of output format makes this fail until the
// sample is regenerated, so the docs cannot go stale silently.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';

interface Sample {
  file: string;
  line: number;
  argv: string[];
  expected: string;
}

function samples(): Sample[] {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const found: Sample[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```/.test(lines[i] ?? '') || !/^\$ metallb-ts /.test(lines[i + 1] ?? '')) continue;
      const end = lines.findIndex((l, j) => j > i + 1 && /^```/.test(l));
      const argv = (lines[i + 1] ?? '').slice('$ metallb-ts '.length).split(/\s+/).filter(Boolean);
      found.push({ file, line: i + 2, argv, expected: lines.slice(i + 2, end).join('\n') });
    }
  }
  return found;
}

test('docs: at least the plan sample of docs/plan.md is checked', () => {
  assert.ok(samples().some((s) => s.file === 'docs/plan.md' && s.argv[0] === 'plan'));
});

for (const s of samples()) {
  test(`docs sample ${s.file}:${s.line}: metallb-ts ${s.argv.join(' ')}`, async () => {
    const r = await runCli(...s.argv);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.replace(/\n+$/, ''), s.expected.replace(/\n+$/, ''), `${s.file}:${s.line} is stale: paste the real output`);
  });
}
