// Runs the test suites with Node's built-in test runner (through tsx for TypeScript).
//   node scripts/run-tests.mjs            unit tests, then integration tests
//   node scripts/run-tests.mjs unit       only test/unit
//   node scripts/run-tests.mjs integration only test/integration (real routers, netns, processes)
//   node scripts/run-tests.mjs FILE...    the given test files (one at a time)
// Node 20's runner does not expand globs, so the file lists are expanded here.
//
// Unit test files run two at a time. Integration test files run INTEGRATION_CONCURRENCY (default
// 2) at a time: every file names its network namespaces, temp dirs and processes uniquely (Lab
// ids, pids) and binds only inside its own namespaces or on port 0, so files do not share fixed
// ports, names or files. The few files that must run alone (they load the whole machine or
// measure failover timing) are listed in SERIAL and run one by one after the parallel batch.
// The codec fuzzer (a million inputs) is not a test file: `npm run fuzz`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Integration files that run alone: CPU-heavy benchmarks and timing-sensitive failover measurements. */
const SERIAL = new Set(['test/integration/bench/smoke.test.ts', 'test/integration/layer2/layer2.test.ts', 'test/integration/layer2/handover.test.ts', 'test/integration/layer2/failback.test.ts']);

function find(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(files, concurrency) {
  if (files.length === 0) return 0;
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

const argv = process.argv.slice(2);
let status = 0;
if (argv.length > 0 && argv[0] !== 'unit' && argv[0] !== 'integration') {
  status = run(argv, 1);
} else {
  const which = argv[0];
  if (!which || which === 'unit') status ||= run(find('test/unit'), 2);
  if (!which || which === 'integration') {
    const files = find('test/integration');
    const concurrency = Math.max(1, Number(process.env.INTEGRATION_CONCURRENCY ?? 2) || 2);
    status = run(files.filter((f) => !SERIAL.has(f)), concurrency) || status;
    status = run(files.filter((f) => SERIAL.has(f)), 1) || status;
  }
}
process.exit(status);
