import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectInterfaces, exclusionReason, type InterfaceFacts } from '../../../src/layer2/interfaces.ts';

let n = 0;
function nic(name: string, over: Partial<InterfaceFacts> = {}): InterfaceFacts {
  n++;
  return { name, kind: 'physical', adminUp: true, carrier: true, addresses: [], mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, ...over };
}

// A node like the one in seed 002: a bond of two NICs, an OVS bridge, a VLAN on the bond,
// docker-style veths, a bridge with a port, and loopback.
const snap = {
  interfaces: [
    nic('lo', { kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'], mac: '00:00:00:00:00:00' }),
    nic('eno1', { master: { name: 'bond0', kind: 'bond' } }),
    nic('eno2', { master: { name: 'bond0', kind: 'bond' } }),
    nic('bond0', { kind: 'bond', addresses: ['192.168.0.10/24', '2001:db8:0:1::10/64'] }),
    nic('bond0.20', { kind: 'vlan', addresses: ['10.20.0.10/24'] }),
    nic('ovs-system', { kind: 'ovs', adminUp: false, carrier: false }),
    nic('ovsbr0', { kind: 'ovs', addresses: ['172.16.0.10/24'] }),
    nic('eno3', { master: { name: 'ovs-system', kind: 'ovs' } }),
    nic('br0', { kind: 'bridge', addresses: ['10.30.0.10/24'] }),
    nic('eno4', { master: { name: 'br0', kind: 'bridge' } }),
    nic('veth1234', { kind: 'veth' }),
    nic('eno5', { adminUp: false, carrier: false }),
  ],
};

test('subnet rule: only the interface carrying the subnet, never its bond slaves', () => {
  const s = selectInterfaces('192.168.0.50', [], snap);
  assert.equal(s.rule, 'subnet');
  assert.deepEqual(s.candidates, ['bond0']);
  assert.deepEqual(s.usable, ['bond0']);
  const reasons = Object.fromEntries(s.rejected.map((r) => [r.name, r.reason]));
  assert.equal(reasons.lo, 'loopback');
  assert.equal(reasons.eno1, 'bond slave of bond0');
  assert.equal(reasons.eno3, 'Open vSwitch port (ovs-system)');
  assert.equal(reasons.eno4, 'bridge port of br0');
  assert.equal(reasons.ovsbr0, 'Open vSwitch device');
});

test('subnet rule works for IPv6 and for VLAN devices and bridges carrying the subnet', () => {
  assert.deepEqual(selectInterfaces('2001:db8:0:1::50', [], snap).candidates, ['bond0']);
  assert.deepEqual(selectInterfaces('10.20.0.7', [], snap).candidates, ['bond0.20']);
  assert.deepEqual(selectInterfaces('10.30.0.7', [], snap).candidates, ['br0']);
});

test('an IP in an OVS-only subnet is not answered on the OVS device: fallback instead', () => {
  const s = selectInterfaces('172.16.0.99', [], snap);
  assert.equal(s.rule, 'fallback');
  assert.deepEqual(s.candidates, ['bond0', 'bond0.20']);
});

test('fallback: up physical/bond/VLAN only; no veth, bridge, down NIC, loopback', () => {
  const s = selectInterfaces('198.51.100.1', [], snap);
  assert.equal(s.rule, 'fallback');
  assert.deepEqual(s.candidates, ['bond0', 'bond0.20']);
  assert.ok(!s.candidates.includes('veth1234'));
  assert.ok(!s.candidates.includes('br0'));
  assert.ok(!s.candidates.includes('eno5'));
});

test('configured interfaces restrict, refuse excluded ones and missing ones', () => {
  const s = selectInterfaces('192.168.0.50', ['bond0.20', 'eno1', 'lo', 'nope', 'bond0.20'], snap);
  assert.equal(s.rule, 'configured');
  assert.deepEqual(s.candidates, ['bond0.20']);
  assert.deepEqual(
    s.rejected.map((r) => r.name),
    ['eno1', 'lo', 'nope'],
  );
  assert.equal(s.rejected[2]?.reason, 'not present on this node');
});

test('configured names none of which exist: no candidates, rule none', () => {
  const s = selectInterfaces('192.168.0.50', ['eth9'], snap);
  assert.equal(s.rule, 'none');
  assert.deepEqual(s.candidates, []);
});

test('usable drops candidates without carrier (link-aware eligibility)', () => {
  const local = {
    interfaces: [nic('eth0', { addresses: ['10.0.0.1/24'], carrier: false }), nic('eth1', { addresses: ['10.0.0.2/24'] })],
  };
  const s = selectInterfaces('10.0.0.50', [], local);
  assert.deepEqual(s.candidates, ['eth0', 'eth1']);
  assert.deepEqual(s.usable, ['eth1']);
  const down = { interfaces: [nic('eth0', { addresses: ['10.0.0.1/24'], carrier: false })] };
  assert.deepEqual(selectInterfaces('10.0.0.50', [], down).usable, []);
});

test('veth carrying the subnet address is a candidate (the node uplink in containers/netns)', () => {
  const s = selectInterfaces('10.0.0.50', [], { interfaces: [nic('eth0', { kind: 'veth', addresses: ['10.0.0.1/24'] })] });
  assert.deepEqual(s.candidates, ['eth0']);
});

test('bad IP strings select nothing by subnet and never throw', () => {
  const s = selectInterfaces('not-an-ip', [], snap);
  assert.equal(s.rule, 'fallback');
  assert.equal(exclusionReason(nic('x', { mac: '' })), 'no hardware address');
});
