// `npm run fuzz [-- --iterations N --seed S --save-outcomes]`: the BGP codec fuzzer.
// Feeds N (default 1,000,000) random and mutated messages through MessageFramer + decodeMessage
// with a fixed seed (reproducible). Every input that fails a check (an exception escaping the
// codec, an undefined result, a message the decoder accepts but cannot re-encode) is a crasher:
// it is appended to test/fixtures/fuzz/bgp-codec.json, which the unit test
// test/unit/bgp/codec/fuzz-corpus.test.ts replays on every `npm test`, and the run exits 1.
// --save-outcomes also saves the first input of every distinct verdict not yet in the corpus (with
// that verdict), so that the replay notices a change of classification.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../unit/helpers/random.ts';
import { CORPUS_FILE, checkInput, mutate, newCounts, seedMessages, toEntry } from './bgp-codec.ts';
import type { CorpusEntry } from './bgp-codec.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: process.env.FUZZ_ITERATIONS ?? '1000000' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? String(0x5eed) },
    'save-outcomes': { type: 'boolean', default: false },
  },
});
const iterations = Number(values.iterations);
const seed = Number(values.seed);
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--iterations N] [--seed S] [--save-outcomes]\n');
  process.exit(2);
}

const corpus = JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as CorpusEntry[];
const known = new Set(corpus.map((e) => e.verdict).filter((v) => v !== undefined));
const added: CorpusEntry[] = [];
const rand = mulberry32(seed);
const seeds = seedMessages();
const counts = newCounts();
const started = process.hrtime.bigint();
let crashers = 0;

for (let i = 0; i < iterations; i++) {
  const input = mutate(rand, i, seeds);
  try {
    const verdict = checkInput(input, counts);
    if (values['save-outcomes'] && !known.has(verdict)) {
      known.add(verdict);
      added.push(toEntry(input, `outcome: first input with this verdict (seed ${seed}, iteration ${i})`, verdict));
    }
  } catch (err) {
    crashers++;
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`crasher at iteration ${i}: ${why}\n`);
    if (crashers <= 20) added.push(toEntry(input, `crasher: ${why} (seed ${seed}, iteration ${i})`));
  }
}

const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (added.length > 0) {
  writeFileSync(CORPUS_FILE, JSON.stringify([...corpus, ...added], null, 1) + '\n');
  process.stderr.write(`saved ${added.length} input(s) to ${CORPUS_FILE.pathname}\n`);
}
process.stdout.write(JSON.stringify({ fuzz: 'bgp-codec', iterations, seed, seconds: Number(seconds.toFixed(1)), crashers, ...counts }) + '\n');
// Every outcome must actually have been exercised, or the mutations have stopped reaching the decoder.
const missing = Object.entries(counts).filter(([, n]) => n === 0).map(([k]) => k);
if (missing.length > 0) process.stderr.write(`no ${missing.join(', ')} outcome in ${iterations} iterations\n`);
process.exit(crashers > 0 || missing.length > 0 ? 1 : 0);
