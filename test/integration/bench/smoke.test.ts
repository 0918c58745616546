// `npm run bench -- --smoke` end to end: real metallb-ts standalone, GoBGP and BIRD processes in
// namespaces the benchmark creates. Asserts that every benchmark produced its results and that
// the routes really went through (counts), never how fast.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../bench/lib/metallbts.ts';
import { haveBinary } from '../../../bench/lib/proc.ts';

function missingPrereqs(): string[] {
  const missing: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root');
  for (const b of ['ip', 'tcpdump', 'curl', 'bird', 'birdc', 'gobgpd', 'gobgp']) if (!haveBinary(b)) missing.push(b);
  return missing;
}

test('bench --smoke: fulltable, churn and failure run against real routers', { timeout: 600000 }, (t) => {
  const missing = missingPrereqs();
  if (missing.length > 0) {
    if (process.env['CI'] === 'true') assert.fail(`benchmark smoke test needs: ${missing.join(', ')}`);
    t.skip(`needs ${missing.join(', ')}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'results.jsonl');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bench', 'run.ts'), 'fulltable', 'churn', 'failure', '--smoke', '--impl', 'metallb-ts,gobgp', '--json', json],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 580000 },
  );
  assert.equal(r.status, 0, `bench exited ${r.status}: ${r.stderr.slice(-3000)}`);
  assert.ok(existsSync(json));
  const rows = readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  // stdout carries exactly the same JSON lines
  assert.equal(r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).length, rows.length);

  for (const impl of ['metallb-ts', 'gobgp']) {
    const ft = rows.find((x) => x['bench'] === 'fulltable' && x['impl'] === impl);
    assert.ok(ft, `fulltable result for ${impl}`);
    assert.equal(ft['runs'], 1);
    assert.equal(ft['n'], 200);
    assert.equal(typeof ft['seconds'], 'number');
    assert.equal(typeof ft['rssMB'], 'number');
    const updates = ft['updates'];
    assert.ok(typeof updates === 'number' && updates >= 1 && updates < 200, `${impl} packs 200 prefixes into fewer UPDATEs (got ${String(updates)})`);
    assert.ok(typeof ft['bytes'] === 'number' && ft['bytes'] >= 200 * 5, 'at least 5 bytes of NLRI per /32');

    for (const phase of ['add', 'delete']) {
      const ch = rows.find((x) => x['bench'] === 'churn' && x['impl'] === impl && x['phase'] === phase);
      assert.ok(ch, `churn ${phase} result for ${impl}`);
      assert.equal(ch['runs'], 1);
      assert.equal(ch['missing'], 0, `every ${phase} seen on the wire for ${impl}`);
      assert.equal(typeof ch['p99ms'], 'number');
    }
    // GoBGP has no BFD: the BFD rows exist for metallb-ts only.
    const scenarios = ['sender-kill', 'sender-freeze', 'receiver-kill', ...(impl === 'gobgp' ? [] : ['freeze-bfd-100x3', 'freeze-bfd-50x3'])];
    for (const scenario of scenarios) {
      const f = rows.find((x) => x['bench'] === 'failure' && x['impl'] === impl && x['scenario'] === scenario);
      assert.ok(f, `failure ${scenario} result for ${impl}`);
      assert.equal(f['runs'], 1, `failure ${scenario} for ${impl} completed`);
    }
  }
});
