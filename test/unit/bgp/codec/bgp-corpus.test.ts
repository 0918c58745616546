// The real-message corpus: every one of the 1660 BGP messages of ../shared/bgp-corpus (real
// routers' captures and other implementations' test vectors, each with the verdict its source
// gives it or the RFC reading NOTES.md documents) goes through our MessageFramer and
// decodeMessage and must get its expected verdict. The corpus is read where CI has it, beside
// the checkout (<repo>/../shared/bgp-corpus; BGP_CORPUS_DIR overrides), never copied into the
// repository. Its own checker, run.mjs, does the comparison (verdict, NOTIFICATION code/subcode,
// discarded attributes, key fields, documented alternatives). Absent: skipped with the reason on
// a laptop, a failure under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '../../../..');
const DIR = process.env.BGP_CORPUS_DIR ?? join(REPO_ROOT, '..', 'shared', 'bgp-corpus');

test('bgp-corpus: every real message gets its expected verdict', { timeout: 120_000 }, (t) => {
  const corpus = join(DIR, 'corpus.jsonl');
  const checker = join(DIR, 'run.mjs');
  if (!existsSync(corpus) || !existsSync(checker)) {
    const why = `the BGP corpus is not at ${DIR} (corpus.jsonl and run.mjs; set BGP_CORPUS_DIR)`;
    if (process.env['CI'] === 'true') assert.fail(why);
    t.skip(why);
    return;
  }
  const cases = readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  // run.mjs loads src/bgp/codec from its working directory (through tsx).
  const r = spawnSync(process.execPath, ['--import', 'tsx', checker], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 110_000 });
  const last = /bgp-corpus: (\d+) passed, (\d+) failed\s*$/.exec(r.stdout);
  assert.ok(last, `run.mjs printed no summary (exit ${r.status}): ${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`);
  const mismatches = r.stdout.split('\n').filter((l) => l.startsWith('MISMATCH'));
  assert.deepEqual(mismatches, []);
  assert.equal(Number(last[1]), cases, `${last[1]} of ${cases} corpus messages passed`);
  assert.equal(Number(last[2]), 0);
  assert.equal(r.status, 0);
});
