// `metallb-ts validate` and `convert`, in-process through the CLI's main() (helpers/cli.ts); the
// real-process smoke tests of bin/metallb-ts.js are in test/unit/cli/acceptance.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli as run } from '../helpers/cli.ts';

const SEEDS = join(REPO_ROOT, 'test/fixtures/seeds');
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'metallb-ts-cli-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('validate: valid seed file exits 0 with a summary', async () => {
  const r = await run('validate', '-f', join(SEEDS, '002-microk8s-configmap.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^valid: 1 objects; 2 pools, 1 peers/);
  assert.equal(r.stderr, '');
});

test('validate: invalid file exits 1 with FILE:LINE: Kind/name: field: message', async () => {
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n  addresses:\n  - 10.0.0.0/24\n  - 10.0.0.9-10.0.0.1\n');
  const r = await run('validate', '-f', f);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `${f}:8: IPAddressPool/p: spec.addresses[1]: range "10.0.0.9-10.0.0.1": start is after end\n` +
      `${f}:4: IPAddressPool/p: metadata.name: warning: pool is not announced by any BGPAdvertisement or L2Advertisement\n`,
  );
  assert.match(r.stdout, /invalid: 1 error/);
});

test('validate -o json: exact shape', async () => {
  const f = join(dir, 'bad2.yaml');
  writeFileSync(f, 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: r\nspec:\n  myASN: 1\n  peerASN: 2\n  peerAddress: 192.0.2.1\n  holdTime: 1s\n');
  const r = await run('validate', '-f', f, '-o', 'json');
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as unknown;
  assert.deepEqual(out, {
    valid: false,
    errors: [{ file: f, line: 9, kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', message: 'hold time 1s must be 0 or at least 3s' }],
    warnings: [],
  });
});

test('validate -o json on a valid folder, with warnings', async () => {
  const d = join(dir, 'folder');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'pool.yaml'), 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n  addresses: [10.0.0.0/24]\n');
  writeFileSync(join(d, 'sub', 'svc.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'LoadBalancer' } }));
  writeFileSync(join(d, 'notes.txt'), 'not yaml: [');
  const r = await run('validate', '-f', d, '-o', 'json');
  assert.equal(r.code, 0, r.stdout);
  const out = JSON.parse(r.stdout) as { valid: boolean; errors: unknown[]; warnings: { field: string }[] };
  assert.equal(out.valid, true);
  assert.deepEqual(out.errors, []);
  assert.deepEqual(out.warnings.map((w) => w.field), ['metadata.name']);
});

test('validate: malformed YAML is one line with file:line, no stack trace', async () => {
  const f = join(dir, 'mal.yaml');
  writeFileSync(f, 'apiVersion: v1\nkind: [\n  x: y\nfoo\n');
  const r = await run('validate', '-f', f);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: invalid YAML: `));
  assert.doesNotMatch(r.stderr, /\bat .*\.(ts|js):\d+/);
});

test('validate: wrong types give a precise line, no stack trace', async () => {
  const f = join(dir, 'types.yaml');
  writeFileSync(f, 'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: a\nspec:\n  aggregationLength: [1]\n');
  const r = await run('validate', '-f', f);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${f}:6: BGPAdvertisement/a: spec.aggregationLength: must be a number, got list\n`);
});

test('validate: unknown kind is an error; cluster kinds are accepted', async () => {
  const f = join(dir, 'kinds.yaml');
  writeFileSync(f, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n');
  const r = await run('validate', '-f', f);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${f}:7: Deployment/d: kind: unknown kind "Deployment"\n`);
});

test('validate: unreadable path exits 2', async () => {
  const r = await run('validate', '-f', join(dir, 'does-not-exist.yaml'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does-not-exist\.yaml:0: cannot read: no such file or directory/);
});

test('validate: usage errors exit 2; --help exits 0', async () => {
  assert.equal((await run('validate')).code, 2);
  assert.equal((await run('validate', '-f', SEEDS, '-o', 'xml')).code, 2);
  assert.equal((await run('validate', '--bogus')).code, 2);
  const h = await run('validate', '--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: metallb-ts validate -f PATH/);
});

test('convert: seed 002 ConfigMap round-trips through validate', async () => {
  const r = await run('convert', '-f', join(SEEDS, '002-microk8s-configmap.yaml'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kind: IPAddressPool/);
  assert.match(r.stdout, /namespace: metallb-system/);
  const f = join(dir, 'converted.yaml');
  writeFileSync(f, r.stdout);
  const v = await run('validate', '-f', f, '-o', 'json');
  assert.equal(v.code, 0, v.stdout);
  assert.equal((JSON.parse(v.stdout) as { valid: boolean }).valid, true);
});

test('convert: --namespace, usage and invalid input', async () => {
  const r = await run('convert', '-f', join(SEEDS, '000-romana-peers-bare.yaml'), '--namespace', 'lb');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /namespace: lb/);
  assert.match(r.stdout, /kind: BGPPeer/);
  assert.equal((await run('convert')).code, 2);
  assert.equal((await run('convert', '-f', join(SEEDS, '001-aggregation.yaml'))).code, 1); // no legacy config in it
  const h = await run('convert', '--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: metallb-ts convert/);
});
