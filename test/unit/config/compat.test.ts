// MetalLB users' inputs that MetalLB accepts: dangling references, missing Secrets and other
// products' objects are warnings (with a code for programs), never errors (issue 15 items 4-5,
// issue 13 item 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputCache, readInputs } from '../../../src/config/load.ts';
import type { Diagnostic } from '../../../src/config/types.ts';
import { runCli } from '../helpers/cli.ts';
import { bgpAdv, doc, ebgpPeer, l2Adv, load, peer, pool } from './helpers.ts';

const line = (d: Diagnostic): string => `${d.kind}/${d.name}: ${d.field}: ${d.message} [${d.code ?? ''}]`;

test('an advertisement naming a pool or peer that does not exist is a warning; it matches nothing', () => {
  const set = load(pool('public', ['10.0.0.0/24']), peer('router1', ebgpPeer()), bgpAdv('a', { ipAddressPools: ['pubilc', 'public'], peers: ['rooter1'] }), l2Adv('l', { ipAddressPools: ['gone'] }));
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.warnings.map(line), [
    'BGPAdvertisement/a: spec.ipAddressPools[0]: unknown IPAddressPool "pubilc"; did you mean "public"? (matches nothing, as in MetalLB) [missing-reference]',
    'BGPAdvertisement/a: spec.peers[0]: unknown BGPPeer "rooter1"; did you mean "router1"? (matches nothing, as in MetalLB) [missing-reference]',
    'L2Advertisement/l: spec.ipAddressPools[0]: unknown IPAddressPool "gone" (matches nothing, as in MetalLB) [missing-reference]',
  ]);
  const c = set.config;
  assert.ok(c);
  assert.deepEqual(c.bgpAdvertisements[0]?.pools, ['public']);
  assert.deepEqual(c.bgpAdvertisements[0]?.peers, ['rooter1']); // names no peer: announces to none
  assert.deepEqual(c.l2Advertisements[0]?.pools, []); // not "every pool"
});

test('a peer whose password Secret is missing: validate warns (the session is blocked at run time)', () => {
  const set = load(peer('r', ebgpPeer({ passwordSecret: { name: 'bgp-pass' } })));
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.warnings.map(line), [
    'BGPPeer/r: spec.passwordSecret: Secret metallb-system/bgp-pass not found: this session stays down (blocked) until the Secret exists [missing-reference]',
  ]);
  const secret = doc('Secret', 'bgp-pass', undefined, 'v1', { namespace: 'metallb-system' }).replace(/\n$/, '\ntype: kubernetes.io/basic-auth\nstringData:\n  password: x\n');
  assert.deepEqual(load(peer('r', ebgpPeer({ passwordSecret: { name: 'bgp-pass' } })), secret).warnings, []);
});

test('objects of other products are ignored with a warning; near misses of our group stay errors', () => {
  const l3vni = doc('L3VNI', 'red', { asn: 64514, vni: 100 }, 'openpe.openperouter.github.io/v1alpha1');
  const calicoPeer = doc('BGPPeer', 'rack1-tor', { peerIP: '192.20.30.40', asSetNumber: 64567 }, 'crd.projectcalico.org/v1');
  const state = doc('BGPSessionState', 's', undefined, 'frrk8s.metallb.io/v1beta1');
  const set = load(l3vni, calicoPeer, state);
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.warnings.map(line), [
    'L3VNI/red: apiVersion: openpe.openperouter.github.io/v1alpha1 L3VNI is not used by metallb-ts; ignored [foreign-object]',
    'BGPPeer/rack1-tor: apiVersion: crd.projectcalico.org/v1 BGPPeer is not used by metallb-ts; ignored [foreign-object]',
    'BGPSessionState/s: apiVersion: frrk8s.metallb.io/v1beta1 BGPSessionState is not used by metallb-ts; ignored [foreign-object]',
  ]);
  const typo = load(pool('p', ['10.0.0.0/24']).replace('metallb.io/v1beta1', 'metallb.oi/v1beta1'));
  assert.match(typo.errors.map(line).join('\n'), /unsupported apiVersion "metallb.oi\/v1beta1"/);
  // a Kubernetes kind we do not read is still an error with a suggestion (most likely a typo)
  assert.match(load(doc('Servce', 's', {}, 'v1')).errors.map(line).join('\n'), /did you mean "Service"/);
});

test('seed 003 (OpenPERouter) pasted whole: validate exits 0 with warnings only', async () => {
  const file = join(import.meta.dirname, '../../fixtures/seeds/003-openperouter-whole.yaml');
  const set = readInputs([file]);
  assert.deepEqual(set.errors, []);
  assert.ok(set.warnings.some((w) => w.code === 'foreign-object' && w.kind === 'L3VNI'));
  const r = await runCli('validate', '-f', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^valid: /);
  assert.match(r.stderr, /L3VNI\/red: apiVersion: warning: openpe\.openperouter\.github\.io\/v1alpha1 L3VNI is not used by metallb-ts; ignored/);
});

test('pool addresses as MetalLB reads them: a single IP needs a prefix length, spaces are errors, 10.1 is no address', () => {
  const errs = (...addresses: unknown[]): string[] => load(pool('p', addresses)).errors.map((d) => `${d.field}: ${d.message}`);
  assert.deepEqual(errs('10.0.0.1'), ['spec.addresses[0]: invalid CIDR "10.0.0.1": a single address needs a prefix length; write 10.0.0.1/32']);
  assert.deepEqual(errs('2001:db8::1'), ['spec.addresses[0]: invalid CIDR "2001:db8::1": a single address needs a prefix length; write 2001:db8::1/128']);
  assert.deepEqual(errs(' 10.0.0.0/24'), ['spec.addresses[0]: " 10.0.0.0/24" has spaces around it; write "10.0.0.0/24"']);
  assert.deepEqual(errs('10.0.0.0/24 '), ['spec.addresses[0]: "10.0.0.0/24 " has spaces around it; write "10.0.0.0/24"']);
  assert.deepEqual(errs('10.0.0.1 - 10.0.0.5', '10.0.1.1/32'), []); // a range may space its dash, as in MetalLB
  assert.deepEqual(
    load('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n  addresses:\n  - 10.1\n').errors.map((d) => `${d.line} ${d.field}: ${d.message}`),
    ['7 spec.addresses[0]: 10.1 is not an IP address (YAML read it as a number); write a CIDR such as "10.1.0.0/16"'],
  );
  assert.deepEqual(
    load(peer('r', { myASN: 64512, peerASN: 64513, peerAddress: 10.1 })).errors.map((d) => `${d.field}: ${d.message}`),
    ['spec.peerAddress: 10.1 is not an IP address (YAML read it as a number)'],
  );
});

test('a v6 pool advertised to an IPv4-only peer: validate and plan warn, naming both (and the reverse)', async () => {
  const docs = [
    pool('v6', ['2001:db8::/64']),
    pool('v4', ['10.0.0.0/24']),
    peer('r4', ebgpPeer()),
    peer('r6', ebgpPeer({ peerAddress: '2001:db8:ffff::1' })),
    peer('both', ebgpPeer({ peerAddress: '192.0.2.2', dualStackAddressFamily: true })),
    bgpAdv('a', { ipAddressPools: ['v6'], peers: ['r4'] }),
    bgpAdv('b', { ipAddressPools: ['v4'], peers: ['r6'] }),
    bgpAdv('fine', { ipAddressPools: ['v6', 'v4'], peers: ['both'] }),
  ];
  const set = load(...docs);
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.warnings.filter((w) => w.code === 'address-family').map(line), [
    'BGPAdvertisement/a: spec.ipAddressPools[0]: the IPv6 addresses of IPAddressPool/v6 go nowhere: BGPPeer/r4 is IPv4-only (an IPv4 session carries IPv6 routes only with dualStackAddressFamily: true) [address-family]',
    'BGPAdvertisement/b: spec.ipAddressPools[0]: the IPv4 addresses of IPAddressPool/v4 go nowhere: BGPPeer/r6 is IPv6-only (an IPv6 session carries IPv4 routes only with dualStackAddressFamily: true) [address-family]',
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-family-'));
  try {
    writeFileSync(join(dir, 'config.yaml'), docs.join('---\n'));
    const r = await runCli('plan', '-f', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /BGPAdvertisement\/a: spec\.ipAddressPools\[0\]: warning: the IPv6 addresses of IPAddressPool\/v6 go nowhere: BGPPeer\/r4 is IPv4-only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Service manifests: unknown fields, case slips and misspelled MetalLB annotations are warnings with did-you-mean', () => {
  const svc =
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    metallb.io/adress-pool: blue\n    metallb.universe.tf/allow-shared-ip: k\n' +
    '    kubectl.kubernetes.io/last-applied-configuration: x\nspec:\n  type: Loadbalancer\n  loadBalancerIp: 10.0.0.5\n  ports:\n  - port: 80\n    protocol: tcp\n';
  const expected = [
    '6 Service/web: metadata.annotations["metallb.io/adress-pool"]: not a MetalLB annotation; did you mean "metallb.io/address-pool"? (ignored)',
    '10 Service/web: spec.type: "Loadbalancer" is not a valid type; did you mean "LoadBalancer"?',
    '11 Service/web: spec.loadBalancerIp: unknown field; did you mean "loadBalancerIP"? (ignored)',
    '14 Service/web: spec.ports[0].protocol: "tcp" is not a valid protocol; did you mean "TCP"?',
  ];
  const set = load(svc);
  assert.deepEqual(set.errors, []);
  assert.deepEqual(set.warnings.map((w) => `${w.line} ${w.kind}/${w.name}: ${w.field}: ${w.message}`), expected);
  assert.ok(set.warnings.every((w) => w.code === 'service-field'));
  // standalone reads through the cache that keeps no parsed YAML: the same warnings
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-svc-'));
  try {
    writeFileSync(join(dir, 'svc.yaml'), svc);
    const cached = new InputCache({ retainObjects: false }).read([dir]);
    assert.deepEqual(cached.warnings.map((w) => `${w.line} ${w.kind}/${w.name}: ${w.field}: ${w.message}`), expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // a correct Service says nothing
  assert.deepEqual(load(svc.replace('adress', 'address').replace('Loadbalancer', 'LoadBalancer').replace('loadBalancerIp', 'loadBalancerIP').replace('tcp', 'TCP')).warnings, []);
});
