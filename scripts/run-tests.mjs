// Runs the test suites with Node's built-in test runner (through tsx for TypeScript).
//   node scripts/run-tests.mjs            unit tests, then integration tests
//   node scripts/run-tests.mjs unit       only test/unit
//   node scripts/run-tests.mjs integration only test/integration (real routers, netns, processes)
//   node scripts/run-tests.mjs FILE...    the given test files
// Node 20's runner does not expand globs, so the file lists are expanded here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

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
  if (!which || which === 'integration') status = run(find('test/integration'), 1) || status;
}
process.exit(status);
