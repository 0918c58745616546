// User acceptance of the file-reading commands exactly as the README tells a new user:
// `metallb-ts validate|plan|convert` on the quickstart folder, on the seed documents'
// configurations, on common mistakes, and the top-level usage behaviour. The README steps and the
// top-level usage error run as real processes (bin/metallb-ts.js: exit status and streams of the
// real entry point); the rest runs in-process through the same main() (helpers/cli.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli as run, runCliProcess } from '../helpers/cli.ts';

const SEEDS = join(REPO_ROOT, 'test/fixtures/seeds');
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'metallb-ts-ua-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('README: validate (real process) and plan on examples/standalone', async () => {
  const v = runCliProcess('validate', '-f', 'examples/standalone');
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stderr, '');
  assert.match(v.stdout, /^valid: 4 objects; 1 pools, 1 peers, 1 BGP advertisements/);

  const p = await run('plan', '-f', 'examples/standalone', '-o', 'json');
  assert.equal(p.code, 0, p.stderr);
  const plan = JSON.parse(p.stdout) as {
    services: { name: string; ips: string[]; pool: string }[];
    bgp: { peer: string; peerAddress: string; peerASN: number; myASN: number; ebgp: boolean; routes: { prefix: string; communities: string[]; largeCommunities: string[] }[] }[];
  };
  assert.deepEqual(plan.services.map((s) => [s.name, s.ips, s.pool]), [['web', ['203.0.113.10'], 'quickstart-pool']]);
  assert.deepEqual(
    plan.bgp.map((s) => [s.peer, s.peerAddress, s.peerASN, s.myASN, s.ebgp]),
    [['local-router', '127.0.0.1', 64513, 64512, true]],
  );
  assert.deepEqual(plan.bgp[0]?.routes.map((r) => [r.prefix, r.communities, r.largeCommunities]), [
    ['203.0.113.10/32', ['64512:100'], ['64512:1:2']],
  ]);
});

test('seed 001 pasted as written, plus a peer and the service of the text: exactly the two routes', async () => {
  const peer = join(dir, 'peer.yaml');
  writeFileSync(
    peer,
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: router\n  namespace: metallb-system\n' +
      'spec:\n  myASN: 64512\n  peerASN: 64512\n  peerAddress: 172.30.0.3\n',
  );
  const svc = join(dir, 'svc.yaml');
  writeFileSync(
    svc,
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n  loadBalancerIP: 198.51.100.10\n  ports:\n  - port: 80\n',
  );
  const r = await run('plan', '-f', join(SEEDS, '001-aggregation.yaml'), '-f', peer, '-f', svc);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\s+198\.51\.100\./.test(l)).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(lines, [
    ['198.51.100.0/24', '127.0.0.1', '0'],
    ['198.51.100.10/32', '127.0.0.1', '100', '65535:65282'],
  ]);
  assert.match(r.stdout, /Total number of prefixes 2\n/);
});

test('plan prints warnings exactly like validate (FILE:LINE: Kind/name: field: warning: message)', async () => {
  const f = join(dir, 'lonely.yaml');
  writeFileSync(f, 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: lonely\nspec:\n  addresses: [10.9.0.0/24]\n');
  const v = await run('validate', '-f', f);
  const p = await run('plan', '-f', f);
  assert.equal(v.code, 0);
  assert.equal(p.code, 0);
  const expected = `${f}:4: IPAddressPool/lonely: metadata.name: warning: pool is not announced by any BGPAdvertisement or L2Advertisement\n`;
  assert.equal(v.stderr, expected);
  assert.equal(p.stderr, expected);
});

test('plan: an unreadable path is exit 2 (as validate), an invalid configuration exit 1', async () => {
  const missing = join(dir, 'does-not-exist.yaml');
  const p = await run('plan', '-f', missing);
  assert.equal(p.code, 2);
  assert.equal(p.stderr, `${missing}:0: cannot read: no such file or directory\n`);
  assert.equal(p.stdout, '');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: r\nspec:\n  myASN: 64512\n  peerASN: "64513"\n  peerAddress: 10.0.0.1\n');
  const i = await run('plan', '-f', bad);
  assert.equal(i.code, 1);
  assert.equal(
    i.stderr,
    `${bad}:7: BGPPeer/r: spec.peerASN: must be an integer, got string "64513" (remove the quotes)\n` +
      'metallb-ts plan: 1 error in the configuration\n',
  );
});

test('an empty folder (or one without *.yaml) is reported, not silently "valid"', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'pool.yaml.txt'), 'apiVersion: metallb.io/v1beta1\n');
  const v = await run('validate', '-f', empty);
  assert.equal(v.code, 0);
  assert.match(v.stderr, /^metallb-ts validate: warning: no objects found in .*empty \(folders are read for \*\.yaml, \*\.yml, \*\.json\)\n$/);
  const p = await run('plan', '-f', empty);
  assert.equal(p.code, 0);
  assert.match(p.stderr, /^metallb-ts plan: warning: no objects found in .*empty\n$/);
});

test('top level (real process): no command is a usage error on stderr; `help CMD` shows the command help', async () => {
  const none = runCliProcess();
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^usage: metallb-ts <command> \[options\]/);

  const help = await run('help', 'plan');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: metallb-ts plan -f PATH/);
  assert.match(help.stdout, /-h, --help/);
  assert.match(help.stdout, /exit status: 0 plan printed/);
});
