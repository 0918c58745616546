// resolvePeerPasswords: BGP passwords from basic-auth Secrets (data base64 / stringData), and the
// precise reason a session stays down when the Secret or its key is missing or unusable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInputs } from '../../../src/config/load.ts';
import { planNode, resolvePeerPasswords } from '../../../src/planner/index.ts';
import { secretValue, decodeStrictBase64 } from '../../../src/model/secret.ts';
import type { SessionPlan } from '../../../src/planner/index.ts';
import type { Secret } from '../../../src/model/objects.ts';
import type { Peer } from '../../../src/config/types.ts';
import { node, peer } from '../allocator/helpers.ts';

function session(name: string, opts: Partial<Peer> = {}): SessionPlan {
  return { node: 'n1', peer: name, config: peer(name, '192.0.2.1', 64500, 64501, opts), ebgp: true, routes: [] };
}

function secret(name: string, o: { ns?: string; type?: string; data?: Record<string, string>; stringData?: Record<string, string> } = {}): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, ...(o.ns !== undefined ? { namespace: o.ns } : {}) },
    ...(o.type !== undefined ? { type: o.type } : {}),
    ...(o.data ? { data: o.data } : {}),
    ...(o.stringData ? { stringData: o.stringData } : {}),
  };
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const ref = { name: 'bgp-pw', namespace: 'metallb-system' };
const basic = 'kubernetes.io/basic-auth';

test('decodes data.password (base64) of a basic-auth Secret', () => {
  const r = resolvePeerPasswords([session('p', { passwordSecret: ref })], [secret('bgp-pw', { ns: 'metallb-system', type: basic, data: { password: b64('s3cr3t-ü') } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.blocked, []);
  assert.equal(r.sessions.length, 1);
  assert.equal(r.sessions[0]?.config.password, 's3cr3t-ü');
  assert.deepEqual(r.sessions[0]?.config.passwordSecret, ref, 'the reference is kept');
});

test('stringData.password is used, and wins over data like on a Kubernetes write', () => {
  const only = resolvePeerPasswords([session('p', { passwordSecret: ref })], [secret('bgp-pw', { ns: 'metallb-system', stringData: { password: 'plain' } })]);
  assert.equal(only.sessions[0]?.config.password, 'plain');
  const both = resolvePeerPasswords(
    [session('p', { passwordSecret: ref })],
    [secret('bgp-pw', { ns: 'metallb-system', data: { password: b64('old') }, stringData: { password: 'new' } })],
  );
  assert.equal(both.sessions[0]?.config.password, 'new');
});

test('sessions without passwordSecret, or with an inline password, pass through unchanged and in order', () => {
  const a = session('a');
  const b = session('b', { password: 'inline' });
  const c = session('c', { passwordSecret: ref });
  const r = resolvePeerPasswords([a, b, c], [secret('bgp-pw', { ns: 'metallb-system', stringData: { password: 'x' } })]);
  assert.deepEqual(r.sessions.map((s) => s.peer), ['a', 'b', 'c']);
  assert.equal(r.sessions[0], a);
  assert.equal(r.sessions[1], b);
  assert.equal(r.sessions[1]?.config.password, 'inline');
  assert.equal(r.sessions[2]?.config.password, 'x');
});

test('a missing Secret blocks the session with a precise reason (never an empty password)', () => {
  const s = session('router', { passwordSecret: ref });
  const r = resolvePeerPasswords([session('free'), s], [secret('other', { ns: 'metallb-system', stringData: { password: 'x' } })]);
  assert.deepEqual(r.sessions.map((x) => x.peer), ['free']);
  assert.equal(r.blocked.length, 1);
  assert.equal(r.blocked[0]?.session, s);
  assert.equal(r.blocked[0]?.secret, 'metallb-system/bgp-pw');
  assert.equal(r.blocked[0]?.reason, 'Secret not found');
  assert.deepEqual(r.errors, ['BGPPeer "router" (node n1): passwordSecret metallb-system/bgp-pw: Secret not found; session not started']);
});

test('the Secret must be in the referenced namespace (a Secret without namespace matches: folder input)', () => {
  const wrongNs = resolvePeerPasswords([session('p', { passwordSecret: ref })], [secret('bgp-pw', { ns: 'default', stringData: { password: 'x' } })]);
  assert.equal(wrongNs.blocked[0]?.reason, 'Secret not found');
  const noNs = resolvePeerPasswords([session('p', { passwordSecret: ref })], [secret('bgp-pw', { stringData: { password: 'y' } })]);
  assert.equal(noNs.sessions[0]?.config.password, 'y');
  const prefer = resolvePeerPasswords(
    [session('p', { passwordSecret: ref })],
    [secret('bgp-pw', { stringData: { password: 'loose' } }), secret('bgp-pw', { ns: 'metallb-system', stringData: { password: 'exact' } })],
  );
  assert.equal(prefer.sessions[0]?.config.password, 'exact');
});

test('missing key, empty value, bad base64, wrong type and over-long keys are reported, not sent', () => {
  const cases: [Secret, string][] = [
    [secret('bgp-pw', { ns: 'metallb-system', type: basic, data: { username: b64('u') } }), 'Secret has no key "password"'],
    [secret('bgp-pw', { ns: 'metallb-system', type: basic, data: { password: '' } }), 'key "password" is empty'],
    [secret('bgp-pw', { ns: 'metallb-system', stringData: { password: '' } }), 'key "password" is empty'],
    [secret('bgp-pw', { ns: 'metallb-system', data: { password: 'not base64!' } }), 'data.password is not valid base64'],
    [secret('bgp-pw', { ns: 'metallb-system', data: { password: 'YWJj' + 'Z' } }), 'data.password is not valid base64'],
    [secret('bgp-pw', { ns: 'metallb-system', type: 'Opaque', stringData: { password: 'x' } }), 'Secret must be of type kubernetes.io/basic-auth, is Opaque'],
    [secret('bgp-pw', { ns: 'metallb-system', stringData: { password: 'k'.repeat(81) } }), 'password is 81 bytes, TCP-MD5 allows at most 80'],
  ];
  for (const [sec, reason] of cases) {
    const r = resolvePeerPasswords([session('p', { passwordSecret: ref })], [sec]);
    assert.deepEqual(r.sessions, [], reason);
    assert.equal(r.blocked[0]?.reason, reason);
    assert.match(r.errors[0] ?? '', new RegExp(`passwordSecret metallb-system/bgp-pw: .*session not started$`));
  }
  const max = resolvePeerPasswords([session('p', { passwordSecret: ref })], [secret('bgp-pw', { ns: 'metallb-system', stringData: { password: 'k'.repeat(80) } })]);
  assert.equal(max.sessions[0]?.config.password, 'k'.repeat(80));
});

test('secretValue / decodeStrictBase64', () => {
  assert.equal(decodeStrictBase64('aGVsbG8='), 'hello');
  assert.equal(decodeStrictBase64(''), '');
  assert.equal(decodeStrictBase64('aGVsbG8'), undefined, 'unpadded');
  assert.equal(decodeStrictBase64('aGVs bG8='), undefined, 'whitespace');
  assert.deepEqual(secretValue(secret('s', { data: { secretkey: b64('k') } }), 'secretkey'), { value: 'k' });
  assert.deepEqual(secretValue(secret('s', {}), 'secretkey'), { error: 'Secret has no key "secretkey"' });
});

test('end to end from YAML: the planner keeps the reference, the resolver fills the key', () => {
  const yaml = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [198.51.100.0/24] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router, namespace: metallb-system }
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 192.0.2.1
  passwordSecret: { name: bgp-pw }
---
apiVersion: v1
kind: Secret
metadata: { name: bgp-pw, namespace: metallb-system }
type: kubernetes.io/basic-auth
data: { password: ${b64('from-yaml')} }
`;
  const inputs = parseInputs([{ file: 'cfg.yaml', text: yaml }]);
  assert.deepEqual(inputs.errors, []);
  assert.ok(inputs.config);
  const p = planNode({ config: inputs.config, services: [], assignments: {}, nodes: [node('n1', {}, { addresses: ['10.0.0.11'] })], endpointSlices: [] }, 'n1');
  assert.equal(p.sessions.length, 1);
  assert.equal(p.sessions[0]?.config.password, undefined);
  assert.deepEqual(p.sessions[0]?.config.passwordSecret, { name: 'bgp-pw', namespace: 'metallb-system' });
  const r = resolvePeerPasswords(p.sessions, inputs.secrets);
  assert.equal(r.sessions[0]?.config.password, 'from-yaml');
  assert.deepEqual(resolvePeerPasswords(p.sessions, []).blocked.map((b) => b.reason), ['Secret not found']);
});
