// Replays the BGP codec fuzz corpus (test/fixtures/fuzz/bgp-codec.json, written by `npm run fuzz`):
// crashers the fuzzer found (they must pass the checks once fixed, and keep passing) and one input
// per distinct verdict (each must still get the verdict it was saved with). Plus a short seeded
// fuzz run so that the mutations keep working between full `npm run fuzz` runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mulberry32 } from '../../helpers/random.ts';
import { CORPUS_FILE, checkInput, fromEntry, mutate, newCounts, seedMessages } from '../../../fuzz/bgp-codec.ts';
import type { CorpusEntry } from '../../../fuzz/bgp-codec.ts';

const corpus = JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as CorpusEntry[];

test('fuzz corpus: every saved input passes the checks and keeps its verdict', () => {
  assert.ok(corpus.length > 0, 'the corpus is empty: run `npm run fuzz -- --save-outcomes`');
  const verdicts = new Set<string>();
  for (const [i, e] of corpus.entries()) {
    const verdict = checkInput(fromEntry(e));
    if (e.verdict !== undefined) assert.equal(verdict, e.verdict, `corpus entry ${i} (${e.note})`);
    verdicts.add(verdict);
  }
  // The corpus covers every kind of outcome the codec has.
  for (const kind of ['decode:ok', 'decode:treat-as-withdraw', 'decode:error 3/', 'framer-error:1/1', 'framer-error:1/2', 'framer:ok']) {
    assert.ok([...verdicts].some((v) => v.includes(kind)), `no corpus input with ${kind}`);
  }
});

test('fuzz: a short seeded run (npm run fuzz does a million)', () => {
  const rand = mulberry32(0x5eed);
  const seeds = seedMessages();
  const counts = newCounts();
  for (let i = 0; i < 5000; i++) checkInput(mutate(rand, i, seeds), counts);
  for (const [k, n] of Object.entries(counts)) assert.ok(n > 0, `no ${k} outcome`);
});
