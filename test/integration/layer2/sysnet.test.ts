// Interface facts read from a real namespace (/sys/class/net, ethtool via the addon) and the
// selection rule applied to them; plus the native addon's argument/error handling.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, missingPrerequisites, sh } from './lab.ts';
import { loadPacketAddon, ETH_P_ARP } from '../../../src/native/packet.ts';
import type { InterfaceFacts, Selection } from '../../../src/layer2/interfaces.ts';

const missing = missingPrerequisites();
const mustRun = process.env.CI === 'true';
const NS = `l2s${process.pid % 100000}-ns`;
let created = false;

after(() => {
  if (created) sh('ip', ['netns', 'del', NS], true);
});

function skipOrFail(t: { skip(msg: string): void }): boolean {
  if (!missing) return false;
  if (mustRun) assert.fail(`CI=true but prerequisite missing: ${missing}`);
  t.skip(missing);
  return true;
}

test('snapshot of a namespace with a bridge, a bridge port, a veth, a macvlan and loopback', (t) => {
  if (skipOrFail(t)) return;
  sh('ip', ['netns', 'add', NS]);
  created = true;
  const ip = (...a: string[]): string => sh('ip', ['-n', NS, ...a]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'br0', 'type', 'bridge');
  ip('link', 'add', 've0', 'type', 'veth', 'peer', 'name', 've1');
  ip('link', 'set', 've0', 'master', 'br0');
  ip('link', 'add', 'mv0', 'link', 've1', 'type', 'macvlan');
  for (const i of ['br0', 've0', 've1', 'mv0']) ip('link', 'set', i, 'up');
  ip('addr', 'add', '10.55.0.1/24', 'dev', 'br0');
  ip('addr', 'add', '10.56.0.1/24', 'dev', 've1');
  ip('addr', 'add', '10.57.0.1/24', 'dev', 'mv0');
  const out = sh('ip', [
    'netns', 'exec', NS, process.execPath, '--import', 'tsx', join(REPO, 'test/integration/layer2/snapshot-helper.ts'),
    '10.55.0.9', '10.56.0.9', '10.57.0.9', '192.0.2.9', '10.55.0.9=ve0,lo,mv0', '10.56.0.9=nothere',
  ]);
  const { snap, selections } = JSON.parse(out) as { snap: { interfaces: InterfaceFacts[] }; selections: Record<string, Selection> };
  const by = Object.fromEntries(snap.interfaces.map((f) => [f.name, f]));
  assert.equal(by.lo?.kind, 'loopback');
  assert.equal(by.br0?.kind, 'bridge');
  assert.equal(by.ve0?.kind, 'veth');
  assert.deepEqual(by.ve0?.master, { name: 'br0', kind: 'bridge' });
  assert.equal(by.ve1?.kind, 'veth');
  assert.equal(by.ve1?.carrier, true);
  assert.ok(by.ve1?.addresses.includes('10.56.0.1/24'));
  assert.equal(by.mv0?.kind, 'other');
  assert.match(by.ve1?.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

  assert.deepEqual(selections['10.55.0.9']?.candidates, ['br0'], 'the bridge carries the subnet, its port never');
  assert.deepEqual(selections['10.56.0.9']?.candidates, ['ve1']);
  assert.deepEqual(selections['10.57.0.9']?.candidates, ['mv0']);
  assert.equal(selections['192.0.2.9']?.rule, 'none', 'fallback never picks veth, bridge or macvlan');
  const conf = selections['10.55.0.9=ve0,lo,mv0'];
  assert.deepEqual(conf?.candidates, ['mv0']);
  assert.deepEqual(conf?.rejected.map((r) => r.reason), ['bridge port of br0', 'loopback']);
  assert.equal(selections['10.56.0.9=nothere']?.rejected[0]?.reason, 'not present on this node');

  // carrier follows the link
  ip('link', 'set', 've1', 'down');
  const down = JSON.parse(
    sh('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', join(REPO, 'test/integration/layer2/snapshot-helper.ts'), '10.56.0.9']),
  ) as { selections: Record<string, Selection> };
  // getifaddrs keeps the address of a down interface (os.networkInterfaces() would not), so
  // the interface stays the candidate and the rule does not fall back to another NIC
  assert.deepEqual(down.selections['10.56.0.9']?.candidates, ['ve1']);
  assert.deepEqual(down.selections['10.56.0.9']?.usable, [], 'no carrier: not usable');
});

test('native addon: interface facts and precise errors (no frames sent)', (t) => {
  if (skipOrFail(t)) return;
  const a = loadPacketAddon();
  const lo = a.interfaceInfo('lo');
  assert.equal(lo.index, 1);
  assert.equal(lo.hwType, 772);
  assert.ok(lo.flags & a.IFF_LOOPBACK);
  assert.equal(lo.mac.length, 6);
  assert.ok(a.addresses().some((x) => x.name === 'lo' && x.family === 4 && x.address === '127.0.0.1' && x.prefixLength === 8));
  assert.throws(() => a.interfaceInfo('nonexistent-if'), /SIOCGIFINDEX\(nonexistent-if\): No such device/);
  assert.throws(() => a.interfaceInfo('x'.repeat(20)), /invalid interface name/);
  assert.throws(() => new a.PacketSocket('nonexistent-if', ETH_P_ARP, () => {}), /if_nametoindex\(nonexistent-if\)/);
  assert.throws(() => new a.PacketSocket('lo', 0x10000, () => {}), /ethertype out of range/);
  // a socket on loopback: opened, membership handled, closed twice, then refuses to send
  const s = new a.PacketSocket('lo', ETH_P_ARP, () => {});
  assert.equal(s.ifindex, 1);
  assert.throws(() => s.addMembership(Buffer.alloc(5)), /6-byte MAC/);
  assert.throws(() => s.send(Buffer.alloc(4)), /shorter than an Ethernet header/);
  s.close();
  s.close();
  assert.throws(() => s.send(Buffer.alloc(60)), /socket is closed/);
});
