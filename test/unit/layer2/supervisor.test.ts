// The node's Layer 2 side (Kubernetes speaker): who the members are (layer2Members), and which mode
// Layer2Supervisor runs in: the liveness protocol with a shared secret (every candidate address goes
// to the agent, which re-elects over live speakers), or the planner's choice only (no secret,
// a short secret, or a liveness socket that cannot be opened), with the reason in status().
// The liveness socket binds to loopback only; the interface snapshot is empty, so no raw socket
// is opened.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Layer2Supervisor } from '../../../src/layer2/supervisor.ts';
import { layer2Members } from '../../../src/node/layer2.ts';
import type { Layer2Plan } from '../../../src/planner/types.ts';
import type { Node } from '../../../src/model/objects.ts';
import { config, l2Ad, pool, sel } from '../allocator/helpers.ts';

const logger = pino({ level: 'silent' });

function node(name: string, labels: Record<string, string>, ready: 'True' | 'False' | 'Unknown', addresses: { type: string; address: string }[]): Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, status: { conditions: [{ type: 'Ready', status: ready }], addresses } };
}

test('layer2Members: self, and Ready nodes matching an L2Advertisement, at their InternalIP (IPv4 first)', () => {
  const cfg = config({ pools: [pool('p', ['10.0.0.0/24'])], l2Advertisements: [l2Ad('a', ['p'], { nodeSelectors: [sel({ l2: 'on' })] })] });
  const nodes = [
    node('n3', { l2: 'on' }, 'True', [{ type: 'InternalIP', address: 'fd00::3' }]),
    node('n1', {}, 'False', [{ type: 'InternalIP', address: '192.0.2.1' }]), // self: always a member
    node('n2', { l2: 'on' }, 'True', [
      { type: 'InternalIP', address: 'fd00::2' },
      { type: 'InternalIP', address: '192.0.2.2' },
    ]),
    node('n4', { l2: 'on' }, 'Unknown', [{ type: 'InternalIP', address: '192.0.2.4' }]), // not Ready
    node('n5', {}, 'True', [{ type: 'InternalIP', address: '192.0.2.5' }]), // no matching advertisement
    node('n6', { l2: 'on' }, 'True', [{ type: 'ExternalIP', address: '198.51.100.6' }]),
    node('n7', { l2: 'on' }, 'True', []), // no address: cannot take part
  ];
  assert.deepEqual(layer2Members(cfg, nodes, 'n1', 7946), [
    { name: 'n1', address: '192.0.2.1', port: 7946 },
    { name: 'n2', address: '192.0.2.2', port: 7946 },
    { name: 'n3', address: 'fd00::3', port: 7946 },
    { name: 'n6', address: '198.51.100.6', port: 7946 },
  ]);
  assert.deepEqual(layer2Members(config({ pools: [pool('p', ['10.0.0.0/24'])] }), nodes, 'n1', 7946), [], 'no L2Advertisement: no members');
});

const plans: Layer2Plan[] = [
  { ip: '10.0.0.1', services: ['a/x'], node: 'n1', interfaces: [], candidates: [{ name: 'n1', labels: {} }, { name: 'n2', labels: {} }], preferred: [] },
  { ip: '10.0.0.2', services: ['a/y'], node: 'n2', interfaces: [], candidates: [{ name: 'n1', labels: {} }, { name: 'n2', labels: {} }], preferred: [] },
];
const members = (port: number): { name: string; address: string; port: number }[] => [
  { name: 'n1', address: '127.0.0.1', port },
  { name: 'n2', address: '127.0.0.2', port },
];

/** A UDP port on loopback that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function layer2(port: number): Layer2Supervisor {
  return new Layer2Supervisor({
    logger,
    nodeName: 'n1',
    registry: new Registry(),
    bindAddress: '127.0.0.1',
    port,
    agent: { snapshot: () => ({ interfaces: [] }), carrier: () => false },
  });
}

test('Layer2Supervisor: with a secret, every candidate address goes to the agent (liveness protocol)', async () => {
  const port = await freePort();
  const l2 = layer2(port);
  try {
    l2.setMembers(members(port), 'a-secret-of-more-than-16-bytes');
    l2.setPlan(plans);
    await l2.settled();
    const st = l2.status();
    assert.equal(st.mode, 'gossip');
    assert.equal(st.problem, null);
    assert.deepEqual(Object.keys(st.agent?.owners ?? {}).sort(), ['10.0.0.1', '10.0.0.2']);
    // n2 is not alive and n1 has no usable interface: nobody can take the addresses
    assert.deepEqual(st.agent?.owners, { '10.0.0.1': null, '10.0.0.2': null });
    assert.deepEqual(l2.announcing(), []);
  } finally {
    await l2.stop();
  }
});

test('Layer2Supervisor: no secret or a short one -> the planner\'s choice only, with the reason', async () => {
  for (const secret of [undefined, 'short']) {
    const port = await freePort();
    const l2 = layer2(port);
    try {
      l2.setMembers(members(port), secret);
      l2.setPlan(plans);
      await l2.settled();
      const st = l2.status();
      assert.equal(st.mode, 'planner');
      assert.match(st.problem ?? '', secret === undefined ? /no Layer 2 liveness secret/ : /shorter than 16 bytes/);
      assert.deepEqual(Object.keys(st.agent?.owners ?? {}), ['10.0.0.1'], 'only the address the planner elected n1 for');
    } finally {
      await l2.stop();
    }
  }
});

test('Layer2Supervisor: alone in the cluster -> no liveness protocol needed, no problem reported', async () => {
  const l2 = layer2(0);
  try {
    l2.setMembers([{ name: 'n1', address: '127.0.0.1', port: 7946 }], undefined);
    l2.setPlan(plans);
    await l2.settled();
    assert.equal(l2.status().mode, 'planner');
    assert.equal(l2.status().problem, null);
  } finally {
    await l2.stop();
  }
});

test('Layer2Supervisor: liveness port in use -> falls back to the planner\'s choice and says why; a new secret retries', async () => {
  const blocker = createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as AddressInfo).port;
  const l2 = layer2(port);
  try {
    l2.setMembers(members(port), 'a-secret-of-more-than-16-bytes');
    l2.setPlan(plans);
    await l2.settled();
    assert.equal(l2.status().mode, 'planner');
    assert.match(l2.status().problem ?? '', /liveness protocol unavailable/);
    assert.deepEqual(Object.keys(l2.status().agent?.owners ?? {}), ['10.0.0.1']);
    // same inputs again: no retry loop, same state
    l2.setPlan(plans);
    await l2.settled();
    assert.equal(l2.status().mode, 'planner');
    // the port is free again and the secret changes: the liveness protocol starts
    await new Promise<void>((r) => blocker.close(() => r()));
    l2.setMembers(members(port), 'another-secret-of-more-than-16-bytes');
    await l2.settled();
    assert.equal(l2.status().mode, 'gossip');
    assert.equal(l2.status().problem, null);
  } finally {
    await l2.stop();
    try {
      blocker.close();
    } catch {
      // already closed
    }
  }
});
