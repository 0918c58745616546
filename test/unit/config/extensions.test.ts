// metallb-ts BGPPeer extensions (annotations) and the plain "not supported by this build" warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, ebgpPeer, load, pool } from './helpers.ts';

const annotated = (name: string, annotations: Record<string, string>, spec: Record<string, unknown>): string =>
  doc('BGPPeer', name, spec, 'metallb.io/v1beta2', { annotations });

test('metallb-ts.io/passive and graceful-restart-time reach the Peer', () => {
  const r = load(
    pool('p', ['192.0.2.0/28']),
    annotated('a', { 'metallb-ts.io/passive': 'true', 'metallb-ts.io/graceful-restart-time': '5m' }, ebgpPeer({ enableGracefulRestart: true })),
    annotated('b', { 'metallb-ts.io/passive': 'false' }, ebgpPeer({ peerAddress: '192.0.2.2' })),
  );
  assert.deepEqual(r.errors, []);
  const a = r.config?.peers.find((p) => p.name === 'a');
  const b = r.config?.peers.find((p) => p.name === 'b');
  assert.equal(a?.passive, true);
  assert.equal(a?.gracefulRestartTime, 300);
  assert.equal(b?.passive, undefined);
  assert.equal(b?.gracefulRestartTime, undefined);
});

test('bad values are errors with the annotation path; unknown ones and no-effect ones are warnings', () => {
  const r = load(
    pool('p', ['192.0.2.0/28']),
    annotated('a', { 'metallb-ts.io/passive': 'yes', 'metallb-ts.io/graceful-restart-time': '1.5s' }, ebgpPeer({ enableGracefulRestart: true })),
    annotated('b', { 'metallb-ts.io/pasive': 'true', 'metallb-ts.io/graceful-restart-time': '60s' }, ebgpPeer({ peerAddress: '192.0.2.2' })),
    annotated('c', { 'metallb-ts.io/graceful-restart-time': '9999s' }, ebgpPeer({ peerAddress: '192.0.2.3', enableGracefulRestart: true })),
  );
  const errs = r.errors.map((e) => `${e.name} ${e.field}: ${e.message}`);
  assert.deepEqual(errs.sort(), [
    'a metadata.annotations["metallb-ts.io/graceful-restart-time"]: must be a whole number of seconds between 1s and 4095s (Go duration, e.g. "300s"), got "1.5s"',
    'a metadata.annotations["metallb-ts.io/passive"]: must be "true" or "false", got "yes"',
    'c metadata.annotations["metallb-ts.io/graceful-restart-time"]: must be a whole number of seconds between 1s and 4095s (Go duration, e.g. "300s"), got "9999s"',
  ]);
  const warns = r.warnings.filter((w) => w.name === 'b').map((w) => w.message);
  assert.deepEqual(warns.sort(), [
    'has no effect without spec.enableGracefulRestart: true',
    'unknown metallb-ts annotation "metallb-ts.io/pasive": ignored; did you mean "metallb-ts.io/passive"?',
  ]);
});

test('vrf peers: a plain warning that this build does not support them; interface (unnumbered) peers are supported', () => {
  const r = load(
    pool('p', ['192.0.2.0/28']),
    doc('BGPPeer', 'v', ebgpPeer({ vrf: 'red' }), 'metallb.io/v1beta2'),
    doc('BGPPeer', 'u', { myASN: 64512, peerASN: 64513, interface: 'eth0' }, 'metallb.io/v1beta2'),
    doc('BGPPeer', 's', { myASN: 64512, peerASN: 64513, interface: 'eth1', sourceAddress: '192.0.2.100' }, 'metallb.io/v1beta2'),
    doc('BGPPeer', 'both', { myASN: 64512, peerASN: 64513, interface: 'eth2', peerAddress: '192.0.2.1' }, 'metallb.io/v1beta2'),
  );
  assert.deepEqual(
    r.errors.map((e) => `${e.name} ${e.field}: ${e.message}`),
    ['both spec.interface: only one of peerAddress and interface may be set'],
  );
  const w = r.warnings.filter((x) => x.code === 'unsupported-field').map((x) => `${x.name} ${x.field}`);
  assert.deepEqual(w.sort(), ['s spec.sourceAddress', 'v spec.vrf']);
  assert.match(r.warnings.find((x) => x.name === 's')?.message ?? '', /ignored for an unnumbered peer.*link-local address of interface eth1/);
  assert.match(r.warnings.find((x) => x.name === 'v')?.message ?? '', /not supported by this build.*not started/);
});

test('bfdProfile on an unnumbered peer (BGPPeer or FRRConfiguration neighbor) is valid and kept: BFD runs to the router\'s link-local address', () => {
  const bfd = 'apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata:\n  name: fast\n  namespace: metallb-system\nspec:\n  receiveInterval: 100\n  transmitInterval: 100\n';
  const frr = [
    'apiVersion: frrk8s.metallb.io/v1beta1', 'kind: FRRConfiguration', 'metadata:', '  name: unnum', '  namespace: metallb-system', 'spec:', '  bgp:', '    routers:',
    '    - asn: 64512', '      neighbors:', '      - interface: eth3', '        asn: 64513', '        bfdProfile: fast', '',
  ].join('\n');
  const r = load(
    pool('p', ['192.0.2.0/28']),
    bfd,
    doc('BGPPeer', 'u', { myASN: 64512, peerASN: 64513, interface: 'eth0', bfdProfile: 'fast' }, 'metallb.io/v1beta2'),
    doc('BGPPeer', 'n', ebgpPeer({ bfdProfile: 'fast' }), 'metallb.io/v1beta2'),
    frr,
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings.filter((x) => /bfd/i.test(x.field + x.message)).map((x) => `${x.kind}/${x.name} ${x.field}: ${x.message}`), []);
  const byName = new Map((r.config?.peers ?? []).map((p) => [p.name, p]));
  assert.equal(byName.get('u')?.bfdProfile, 'fast');
  assert.equal([...byName.values()].find((p) => p.interface === 'eth3')?.bfdProfile, 'fast');
});
