// The standalone shell with the real loader, allocator, planner and NodeAgent; only the BGP
// speaker is a recorder (no sockets in unit tests).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { parseInputs } from '../../../src/config/load.ts';
import { Standalone } from '../../../src/standalone/runtime.ts';
import { loadState } from '../../../src/standalone/state.ts';
import type { InputSetLike } from '../../../src/standalone/runtime.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import { formatIP } from '../../../src/ip/index.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';
import { createMetrics, recordNodeStatus } from '../../../src/observability/metrics.ts';

function config(addresses: string): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [${addresses}] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: rtr, namespace: metallb-system }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 127.0.0.2 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
spec: { communities: ["65535:65282", "large:1:2:3"] }
`;
}

function svc(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;
}

function harness(statePath: string) {
  let files: { file: string; text: string }[] = [];
  const speaker = new RecordingSpeaker();
  const logger = pino({ level: 'silent' });
  const rt = new Standalone(
    { paths: ['/nowhere'], node: 'n1', nodeAddress: '192.0.2.1', statePath, logger },
    { readInputs: (): InputSetLike => parseInputs(files), agent: new NodeAgent({ node: 'n1', logger, bgp: speaker }) },
  );
  return {
    rt,
    speaker,
    set: (...f: string[]) => (files = f.map((text, i) => ({ file: `f${i}.yaml`, text }))),
    /** file name -> content */
    setFiles: (f: Record<string, string>) => (files = Object.entries(f).map(([file, text]) => ({ file, text }))),
  };
}

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
    try {
      await fn(d);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
}

test('no valid config: not ready, nothing planned, errors in status', withDir((d) => {
  const h = harness(join(d, 'state.json'));
  h.set(config('not-a-cidr'));
  const r = h.rt.start();
  assert.equal(r.ok, false);
  assert.equal(h.rt.ready(), false);
  assert.equal(h.speaker.plans.length, 0);
  const st = h.rt.status();
  assert.equal(st.configErrors.length, 1);
  assert.match(st.configErrors[0] ?? '', /^f0\.yaml:\d+: IPAddressPool\/pool: spec\.addresses\[0\]/);
  assert.equal(st.stale, false);
  assert.deepEqual(st.sessions, []);
}));

test('services get IPs, plan reaches the speaker, state persisted, synthesized node', withDir((d) => {
  const sp = join(d, 'state.json');
  const h = harness(sp);
  h.speaker.state = 'Established';
  h.set(config('198.51.100.10/31'), svc('a'), svc('b'));
  assert.equal(h.rt.start().ok, true);
  assert.equal(h.rt.ready(), true);
  assert.equal(h.speaker.plans.length, 1);
  // the folder has no Node: the synthesized one (at --node-address) is this node
  const s = h.speaker.last()[0];
  assert.equal(s?.node, 'n1');
  assert.deepEqual(s?.nodeAddresses?.map(formatIP), ['192.0.2.1']);
  const st = h.rt.status();
  assert.deepEqual(
    st.services.map((x) => [x.name, x.ips, x.pool, x.error]),
    [
      ['a', ['198.51.100.10'], 'pool', null],
      ['b', ['198.51.100.11'], 'pool', null],
    ],
  );
  assert.equal(st.sessions.length, 1);
  assert.equal(st.sessions[0]?.speaker?.state, 'Established');
  assert.deepEqual(st.sessions[0]?.speaker?.routes, ['198.51.100.10/32', '198.51.100.11/32']);
  assert.deepEqual(st.sessions[0]?.routes[0], {
    prefix: '198.51.100.10/32', nextHop: null, localPref: null, communities: ['65535:65282'], largeCommunities: ['1:2:3'],
  });
  assert.deepEqual(st.pools, [{ pool: 'pool', inUse: 2, total: 2 }]);
  const saved = JSON.parse(readFileSync(sp, 'utf8')) as { assignments: Record<string, unknown> };
  assert.deepEqual(saved.assignments, {
    'default/a': { ips: ['198.51.100.10'], pool: 'pool' },
    'default/b': { ips: ['198.51.100.11'], pool: 'pool' },
  });

  // one service removed: released, state rewritten, plan updated
  h.set(config('198.51.100.10/31'), svc('b'));
  assert.equal(h.rt.reload().changed, true);
  assert.deepEqual(h.speaker.last()[0]?.routes.length, 1);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(sp, 'utf8')) as { assignments: object }).assignments), ['default/b']);
  // the same folder again: nothing changed
  assert.equal(h.rt.reload().changed, false);
}));

test('invalid edit keeps the last good config and reports stale; fixing it recovers', withDir((d) => {
  const h = harness(join(d, 'state.json'));
  h.set(config('198.51.100.10/32'), svc('a'));
  h.rt.start();
  h.set(config('198.51.100.300/32'), svc('a'));
  assert.equal(h.rt.reload().ok, false);
  assert.deepEqual(h.speaker.last()[0]?.routes, h.speaker.plans[0]?.[0]?.routes, 'the same routes under the last good configuration');
  const st = h.rt.status();
  assert.equal(st.ready, true);
  assert.equal(st.stale, true);
  assert.equal(st.services[0]?.ips[0], '198.51.100.10');
  assert.equal(st.configErrors.length, 1);
  h.set(config('198.51.100.10/32'), svc('a'));
  assert.equal(h.rt.reload().ok, true);
  assert.equal(h.rt.status().stale, false);
  assert.deepEqual(h.rt.status().configErrors, []);
}));

test('restart keeps IPs from the state file even when services come in another order', withDir(async (d) => {
  const sp = join(d, 'state.json');
  const h1 = harness(sp);
  h1.set(config('198.51.100.10/31'), svc('zeta'));
  h1.rt.start();
  h1.set(config('198.51.100.10/31'), svc('zeta'), svc('alpha'));
  h1.rt.reload();
  assert.deepEqual(h1.rt.assignments()['default/zeta']?.ips, ['198.51.100.10']);
  await h1.rt.stop();
  assert.deepEqual(h1.speaker.stopped, { withdraw: true });
  assert.equal(h1.rt.ready(), false);

  // a fresh process: alpha sorts first but must not take zeta's address
  const h2 = harness(sp);
  h2.set(config('198.51.100.10/31'), svc('alpha'), svc('zeta'));
  h2.rt.start();
  assert.deepEqual(h2.rt.assignments(), {
    'default/alpha': { ips: ['198.51.100.11'], pool: 'pool' },
    'default/zeta': { ips: ['198.51.100.10'], pool: 'pool' },
  });
}));

test('a throwing loader is contained', withDir((d) => {
  const logger = pino({ level: 'silent' });
  const bad = new Standalone(
    { paths: ['/x'], node: 'n1', nodeAddress: '127.0.0.1', statePath: join(d, 's2.json'), logger },
    {
      readInputs: () => {
        throw new Error('boom');
      },
      agent: new NodeAgent({ node: 'n1', logger, bgp: new RecordingSpeaker() }),
    },
  );
  const r = bad.start();
  assert.equal(r.ok, false);
  assert.match(r.errors[0] ?? '', /reading \/x: boom/);
}));

test('a corrupt state file never swaps IPs silently: previous generation used, /status says so', withDir(async (d) => {
  const sp = join(d, 'state.json');
  const h1 = harness(sp);
  h1.set(config('198.51.100.10/31'), svc('zeta'));
  h1.rt.start();
  h1.set(config('198.51.100.10/31'), svc('zeta'), svc('alpha'));
  h1.rt.reload();
  h1.rt.flushState();
  await h1.rt.stop();
  // the newest generation has both; its predecessor only zeta. Truncate the newest.
  writeFileSync(sp, readFileSync(sp, 'utf8').slice(0, 20));

  const h2 = harness(sp);
  h2.set(config('198.51.100.10/31'), svc('alpha'), svc('zeta'));
  h2.rt.start();
  h2.rt.flushState();
  // zeta keeps its address although alpha sorts first and the newest file is unreadable
  assert.deepEqual(h2.rt.assignments()['default/zeta']?.ips, ['198.51.100.10']);
  const st = h2.rt.status().stateFile;
  assert.equal(st.recovery?.recoveredFrom, `${sp}.prev`);
  assert.equal(st.recovery?.assignments, 1);
  assert.match(st.recovery?.error ?? '', /not valid JSON/);
  // a good file was written again (error cleared) and the good generation was not replaced by the bad one
  assert.equal(st.error, null);
  assert.equal(loadState(sp).error, undefined);
  assert.deepEqual(Object.keys(loadState(`${sp}.prev`).assignments), ['default/zeta']);
  await h2.rt.stop();
}));

test('a broken file does not freeze Services: removals withdraw, new ones get IPs; a broken Service or YAML file keeps its last good Services', withDir((d) => {
  const h = harness(join(d, 'state.json'));
  h.set(config('198.51.100.10-198.51.100.13'), svc('a'), svc('b'));
  assert.equal(h.rt.start().ok, true);
  const routes = (): string[] => (h.speaker.last()[0]?.routes ?? []).map((r) => `${formatIP({ family: r.prefix.family, value: r.prefix.network })}/${r.prefix.length}`);
  assert.deepEqual(routes(), ['198.51.100.10/32', '198.51.100.11/32']);

  // a pool typo in the folder, and Service b removed: b is withdrawn under the last good config
  const broken = config('198.51.100.300/32');
  h.set(broken, svc('a'));
  const r1 = h.rt.reload();
  assert.equal(r1.ok, false);
  assert.equal(r1.changed, true);
  assert.deepEqual(routes(), ['198.51.100.10/32']);
  let st = h.rt.status();
  assert.equal(st.stale, true);
  assert.equal(st.configErrors.length, 1);
  assert.deepEqual(st.services.map((s) => s.name), ['a']);

  // a new Service gets an IP from the last good pools
  h.set(broken, svc('a'), svc('c'));
  assert.equal(h.rt.reload().ok, false);
  assert.deepEqual(h.rt.assignments()['default/c']?.ips, ['198.51.100.11']);
  assert.deepEqual(routes(), ['198.51.100.10/32', '198.51.100.11/32']);

  // a broken Service manifest (c's file f2, bad ports) while a's file is removed and d's file
  // appears: c keeps its last good state, a is withdrawn, d gets an IP
  h.setFiles({ 'f0.yaml': broken, 'f2.yaml': svc('c').replace('ports: [{ port: 80 }]', 'ports: 7'), 'f3.yaml': svc('d') });
  assert.equal(h.rt.reload().ok, false);
  assert.deepEqual(h.rt.assignments()['default/c']?.ips, ['198.51.100.11']);
  assert.equal(h.rt.assignments()['default/a'], undefined);
  assert.deepEqual(h.rt.assignments()['default/d']?.ips, ['198.51.100.10']);
  assert.deepEqual(routes(), ['198.51.100.10/32', '198.51.100.11/32']);
  st = h.rt.status();
  assert.deepEqual(st.staleFiles.map((f) => f.file), ['f0.yaml', 'f2.yaml']);
  assert.match(st.staleFiles[1]?.reason ?? '', /^f2\.yaml:\d+: Service\/c: spec\.ports: must be a list/);
  assert.match(st.staleFiles[1]?.effect ?? '', /last good Services/);

  // a YAML syntax error in c's file, and d's file removed: c stays, d is withdrawn
  h.setFiles({ 'f0.yaml': broken, 'f2.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: c\n' });
  assert.equal(h.rt.reload().ok, false);
  assert.deepEqual(h.rt.assignments()['default/c']?.ips, ['198.51.100.11']);
  assert.equal(h.rt.assignments()['default/d'], undefined);
  assert.deepEqual(routes(), ['198.51.100.11/32']);
  assert.match(h.rt.status().staleFiles.find((f) => f.file === 'f2.yaml')?.reason ?? '', /^f2\.yaml:\d+: invalid YAML/);

  // c's file deleted while broken: c is gone (a deleted file is never stale)
  h.setFiles({ 'f0.yaml': broken, 'f9.yaml': svc('e') });
  h.rt.reload();
  assert.equal(h.rt.assignments()['default/c'], undefined);
  assert.deepEqual(Object.keys(h.rt.assignments()), ['default/e']);

  // fixed: fresh again
  h.set(config('198.51.100.10-198.51.100.13'), svc('a'), svc('c'));
  assert.equal(h.rt.reload().ok, true);
  st = h.rt.status();
  assert.equal(st.stale, false);
}));

test('metallb_speaker_announced: one series per Service address announced over BGP or Layer 2, gone when withdrawn', withDir(async (d) => {
  const h = harness(join(d, 'state.json'));
  const lan = `---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: lan, namespace: metallb-system }
spec: { addresses: [192.0.2.200/32], autoAssign: false }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: lan, namespace: metallb-system }
spec: { ipAddressPools: [lan] }
`;
  const bgpOnly = config('198.51.100.10/31').replace('spec: { communities', 'spec: { ipAddressPools: [pool], communities');
  const l2svc = svc('l').replace('namespace: default }', 'namespace: default, annotations: { metallb.io/address-pool: lan } }');
  h.set(bgpOnly + lan, svc('a'), l2svc);
  assert.equal(h.rt.start().ok, true);
  const metrics = createMetrics();
  const scrape = async (): Promise<string[]> => {
    recordNodeStatus(metrics, h.rt.status());
    return (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('metallb_speaker_announced{'));
  };
  assert.deepEqual(await scrape(), [
    'metallb_speaker_announced{service="default/a",protocol="bgp",node="n1",ip="198.51.100.10"} 1',
    'metallb_speaker_announced{service="default/l",protocol="layer2",node="n1",ip="192.0.2.200"} 1',
  ]);
  // Service a removed: its series goes
  h.set(bgpOnly + lan, l2svc);
  h.rt.reload();
  assert.deepEqual(await scrape(), ['metallb_speaker_announced{service="default/l",protocol="layer2",node="n1",ip="192.0.2.200"} 1']);
  await h.rt.stop();
  assert.deepEqual(await scrape(), []);
}));
