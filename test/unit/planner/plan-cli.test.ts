// `metallb-ts plan` end to end (in-process through the CLI's main(), see helpers/cli.ts) on the
// fixtures under test/fixtures/plan and checks the JSON, the table, and the exit codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { PlanJSON } from '../../../src/planner/index.ts';

const fx = (name: string): string => join('test', 'fixtures', 'plan', name);

async function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli('plan', ...args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

async function json(args: string[]): Promise<PlanJSON> {
  const r = await run([...args, '-o', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as PlanJSON;
}

test('seed 001 through plan: exactly the /32 (localPref 100, 65535:65282) and the bare /24', async () => {
  const out = await json(['-f', fx('seed001')]);
  assert.deepEqual(out, {
    services: [{ namespace: 'default', name: 'web', ips: ['198.51.100.10'], pool: 'first-pool', endpointsAssumed: true, error: null }],
    bgp: [
      {
        node: 'local',
        peer: 'router',
        peerAddress: '172.30.0.3',
        peerPort: 179,
        peerASN: 64512,
        myASN: 64512,
        ebgp: false,
        routes: [
          { prefix: '198.51.100.0/24', nextHop: '127.0.0.1', localPref: 0, communities: [], largeCommunities: [] },
          { prefix: '198.51.100.10/32', nextHop: '127.0.0.1', localPref: 100, communities: ['65535:65282'], largeCommunities: [] },
        ],
      },
    ],
    layer2: [],
  });
});

test('seed 001 with a second service: one more /32, still one /24', async () => {
  const out = await json(['-f', fx('seed001'), '-f', fx('seed001-second')]);
  const routes = out.bgp[0]?.routes ?? [];
  assert.equal(routes.length, 3);
  assert.equal(routes.filter((r) => r.prefix === '198.51.100.0/24').length, 1);
  const api = out.services.find((s) => s.name === 'api');
  assert.ok(api?.ips[0]);
  assert.ok(routes.some((r) => r.prefix === `${api.ips[0]}/32` && r.localPref === 100));
});

test('--node and --node-address name the single synthetic node and its next hop', async () => {
  const out = await json(['-f', fx('seed001'), '--node', 'edge-1', '--node-address', '192.0.2.7']);
  assert.equal(out.bgp[0]?.node, 'edge-1');
  assert.deepEqual(
    out.bgp[0]?.routes.map((r) => r.nextHop),
    ['192.0.2.7', '192.0.2.7'],
  );
});

test('Nodes and EndpointSlices from the input: Local service announced only where its endpoint is', async () => {
  const out = await json(['-f', fx('cluster')]);
  assert.deepEqual(out.services, [{ namespace: 'default', name: 'web', ips: ['203.0.113.1'], pool: 'pool', endpointsAssumed: false, error: null }]);
  assert.deepEqual(
    out.bgp.map((s) => [s.node, s.ebgp, s.routes.map((r) => `${r.prefix} ${r.nextHop} ${r.localPref}`)]),
    [
      ['worker-1', true, []],
      ['worker-2', true, ['203.0.113.1/32 10.0.0.2 null']],
    ],
  );
  const only = await json(['-f', fx('cluster'), '--node', 'worker-1']);
  assert.deepEqual(
    only.bgp.map((s) => s.node),
    ['worker-1'],
  );
});

test('services with status.loadBalancer.ingress keep valid IPs; stale ones are reallocated', async () => {
  const out = await json(['-f', fx('status')]);
  assert.deepEqual(
    out.services.map((s) => [s.name, s.ips, s.error]),
    [
      ['kept', ['192.168.50.77'], null],
      ['stale', ['192.168.50.0'], null],
    ],
  );
});

test('table output by default', async () => {
  const r = await run(['-f', fx('seed001')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /node local -> peer router \(172\.30\.0\.3, AS 64512, local AS 64512, iBGP\)/);
  assert.match(r.stdout, /198\.51\.100\.10\/32\s+127\.0\.0\.1\s+100\s+65535:65282/);
});

test('invalid configuration: exit 1 with validate-style errors', async () => {
  const r = await run(['-f', fx('invalid')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /test\/fixtures\/plan\/invalid\/pool\.yaml:8: IPAddressPool\/broken: spec\.addresses\[0\]: invalid CIDR "10\.0\.0\.300\/24"/);
  assert.equal(r.stdout, '');
});

test('usage errors exit 2', async () => {
  for (const args of [[], ['-f', fx('seed001'), '-o', 'yaml'], ['-f', fx('seed001'), '--node-address', 'nope'], ['--bogus']]) {
    const r = await run(args);
    assert.equal(r.status, 2, `args ${args.join(' ')}`);
    assert.match(r.stderr, /usage: metallb-ts plan/);
  }
});

test('seed 002 (microk8s blog): test-lb gets 192.168.10.1, the router sees one iBGP /32 via the node', async () => {
  const out = await json([
    '-f',
    join('test', 'fixtures', 'seeds', '002-microk8s-configmap.yaml'),
    '-f',
    join('test', 'fixtures', 'seeds', '002-service.yaml'),
    '--node-address',
    '192.168.0.111',
  ]);
  assert.deepEqual(
    out.services.map((s) => [s.name, s.ips, s.pool, s.error]),
    [['test-lb', ['192.168.10.1'], 'default', null]],
  );
  assert.equal(out.bgp.length, 1);
  assert.equal(out.bgp[0]?.peerAddress, '192.168.0.254');
  assert.equal(out.bgp[0]?.ebgp, false);
  assert.deepEqual(out.bgp[0]?.routes, [
    { prefix: '192.168.10.1/32', nextHop: '192.168.0.111', localPref: 0, communities: [], largeCommunities: [] },
  ]);
});

test('seed 004 (OpenPERouter): each namespace pool is announced only to its own peer', async () => {
  const out = await json(['-f', join('test', 'fixtures', 'seeds', '004-openperouter.yaml'), '-f', fx('seed004')]);
  assert.deepEqual(
    out.services.map((s) => [`${s.namespace}/${s.name}`, s.ips, s.pool]),
    [
      ['blue/nginx-service-blue', ['172.31.0.0'], 'address-pool-blue'],
      ['red/nginx-service-red', ['172.30.0.0'], 'address-pool-red'],
    ],
  );
  assert.deepEqual(
    out.bgp.map((s) => [s.peer, s.routes.map((r) => r.prefix)]),
    [
      ['peerblue', ['172.31.0.0/32']],
      ['peerred', ['172.30.0.0/32']],
    ],
  );
});

test('seed 002 layer2 pool: announced by the (single) node over Layer 2, not over BGP', async () => {
  const out = await json(['-f', join('test', 'fixtures', 'seeds', '002-microk8s-configmap.yaml'), '-f', fx('seed002-l2'), '--node', 'k8s-1']);
  assert.deepEqual(out.services[0]?.ips, ['192.168.0.50']);
  assert.deepEqual(out.layer2, [{ ip: '192.168.0.50', services: ['default/l2-lb'], node: 'k8s-1', interfaces: [] }]);
  assert.deepEqual(out.bgp[0]?.routes, []);
});

test('a non-default peerPort (seed 001: peerPort 180) is in the JSON and in the session header', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-port-'));
  try {
    writeFileSync(
      join(dir, 'cfg.yaml'),
      [
        'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [198.51.100.0/24]}',
        'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a, namespace: metallb-system}',
        'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: example, namespace: metallb-system}\nspec: {myASN: 64512, peerASN: 64512, peerAddress: 172.30.0.3, peerPort: 180}',
        'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80}]}',
      ].join('\n---\n'),
    );
    const out = await json(['-f', dir]);
    assert.equal(out.bgp[0]?.peerPort, 180);
    const text = await run(['-f', dir]);
    assert.match(text.stdout, /peer example \(172\.30\.0\.3 port 180, AS 64512/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a node that no BGPPeer selects: plan says which nodeSelectors did not match', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-nosession-'));
  try {
    writeFileSync(
      join(dir, 'all.yaml'),
      [
        'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\n  namespace: metallb-system\nspec:\n  addresses: [192.0.2.0/28]\n',
        'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: a\n  namespace: metallb-system\n',
        'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: tor\n  namespace: metallb-system\nspec:\n  myASN: 64512\n  peerASN: 64513\n  peerAddress: 10.0.0.254\n  nodeSelectors:\n  - matchLabels:\n      rack: r1\n  - matchExpressions:\n    - {key: zone, operator: In, values: [a, b]}\n',
        'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {rack: r1}\nstatus:\n  addresses: [{type: InternalIP, address: 10.0.0.1}]\n',
        'apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n  labels: {rack: r2, zone: c}\nstatus:\n  addresses: [{type: InternalIP, address: 10.0.0.2}]\n',
      ].join('---\n'),
    );
    const out = await json(['-f', dir]);
    assert.deepEqual(out.bgp.map((s) => s.node), ['n1']);
    assert.deepEqual(out.noSession, [{ node: 'n2', reasons: ['BGPPeer tor: nodeSelectors [rack=r1] or [zone in (a,b)] do not match the node\'s labels'] }]);
    const text = await run(['-f', dir]);
    assert.match(text.stdout, / {2}node n2: no BGP session\n {4}BGPPeer tor: nodeSelectors \[rack=r1\] or \[zone in \(a,b\)\] do not match the node's labels\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a peer on loopback (seed 000): the next hop is the session\'s local address 127.0.0.1, not the node address', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-loopback-'));
  try {
    writeFileSync(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n');
    const out = await json(['-f', join('test', 'fixtures', 'seeds', '000-romana-configmap.yaml'), '-f', dir, '--node-address', '10.0.0.5']);
    assert.deepEqual(out.bgp.map((s) => [s.peerAddress, s.routes.map((r) => [r.prefix, r.nextHop])]), [['127.0.0.1', [['198.51.100.0/32', '127.0.0.1']]]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unnumbered BGPPeer (interface): plan names the interface and says the router gets our link-local next hop (RFC 8950 for IPv4)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbt-plan-unnumbered-'));
  try {
    writeFileSync(
      join(dir, 'all.yaml'),
      `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec: {addresses: [198.51.100.10/32, 2001:db8:5::10/128]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [p]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64700, peerASN: 64600, interface: eth0}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: LoadBalancer, ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}
`,
    );
    const out = await json(['-f', dir, '--node-address', '10.0.0.5']);
    const s = out.bgp[0];
    assert.equal(s?.interface, 'eth0');
    assert.equal(s?.peerAddress, 'eth0');
    assert.deepEqual(
      s?.routes.map((r) => [r.prefix, r.nextHop]),
      [
        ['198.51.100.10/32', null],
        ['2001:db8:5::10/128', null],
      ],
    );
    const t = await run(['-f', dir]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /-> peer tor \(unnumbered on eth0, AS 64600/);
    assert.match(t.stdout, /198\.51\.100\.10\/32 +\(our link-local on eth0, RFC 8950\)/);
    assert.match(t.stdout, /2001:db8:5::10\/128 +\(our link-local on eth0\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
