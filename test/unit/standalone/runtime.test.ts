import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { Standalone, syntheticNode } from '../../../src/standalone/runtime.ts';
import { loadState } from '../../../src/standalone/state.ts';
import type { AllocateInput, InputSetLike, PlanInput, StandaloneDeps } from '../../../src/standalone/runtime.ts';
import type { Config } from '../../../src/config/types.ts';
import type { SessionPlan } from '../../../src/planner/types.ts';
import type { Service } from '../../../src/model/objects.ts';
import { formatIP, hostPrefix, makeIP, parseIP, parseRangeOrCIDR } from '../../../src/ip/index.ts';
import type { IPRange } from '../../../src/ip/index.ts';
import { makePeer } from '../helpers/peer.ts';

const src = { file: 'x.yaml', line: 1, kind: 'K', name: 'n' };

function config(poolCidr: string): Config {
  const r = parseRangeOrCIDR(poolCidr) as IPRange;
  const peer = makePeer('rtr', '127.0.0.2', 64512, 64513, src);
  return {
    pools: [{ name: 'pool', ranges: [r], cidrs: [], autoAssign: true, avoidBuggyIPs: false, labels: {}, source: src }],
    peers: [peer],
    bgpAdvertisements: [],
    l2Advertisements: [],
    bfdProfiles: [],
    communityAliases: {},
  };
}

function svc(name: string): Service {
  return { metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer' } };
}

function inputs(cfg: Config | undefined, services: Service[], errors: string[] = []): InputSetLike {
  return {
    ...(cfg ? { config: cfg } : {}),
    errors: errors.map((m) => ({ file: 'bad.yaml', line: 3, kind: 'IPAddressPool', name: 'pool', field: 'spec.addresses[0]', message: m })),
    warnings: [],
    services,
    nodes: [],
    endpointSlices: [],
    namespaces: [],
    secrets: [],
  };
}

// Minimal allocator: keeps previous IPs, hands out the lowest free address of the first pool.
function fakeAllocate(input: AllocateInput) {
  const pool = input.config.pools[0];
  const assignments: Record<string, { ips: string[]; pool: string }> = {};
  const used = new Set<string>();
  const keys = input.services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort();
  for (const k of keys) {
    const prev = input.previous[k];
    if (prev) {
      assignments[k] = prev;
      prev.ips.forEach((ip) => used.add(ip));
    }
  }
  const results = [];
  for (const k of keys) {
    if (!assignments[k] && pool) {
      const r = pool.ranges[0];
      for (let v = r?.first ?? 1n; r && v <= r.last; v++) {
        const ip = formatIP(makeIP(r.family, v));
        if (!used.has(ip)) {
          used.add(ip);
          assignments[k] = { ips: [ip], pool: pool.name };
          break;
        }
      }
    }
    const a = assignments[k];
    results.push(a ? { key: k, assignment: a, changed: false } : { key: k, error: 'pool exhausted', changed: false });
  }
  return { assignments, results };
}

function fakePlan(input: PlanInput, node: string) {
  const sessions: SessionPlan[] = input.config.peers.map((p) => ({
    node,
    peer: p.name,
    config: p,
    ebgp: true,
    routes: Object.values(input.assignments).flatMap((a) =>
      a.ips.map((ip) => ({ prefix: hostPrefix(parseIP(ip)), communities: [65535 * 65536 + 65282], largeCommunities: [[1, 2, 3] as [number, number, number]] })),
    ),
  }));
  return { sessions, layer2: [] };
}

function harness(statePath: string) {
  let current = inputs(undefined, []);
  const plans: SessionPlan[][] = [];
  const owned: { ip: string; interfaces: string[] }[][] = [];
  let stopped: { withdraw?: boolean } | undefined;
  let planInput: PlanInput | undefined;
  const deps: StandaloneDeps = {
    readInputs: () => current,
    allocate: fakeAllocate,
    planNode: (i, n) => {
      planInput = i;
      return fakePlan(i, n);
    },
    speaker: {
      setPlan: (s) => plans.push(s),
      status: () => [{ peer: 'rtr', state: 'Established', uptimeSeconds: 5 }],
      stop: async (o) => {
        stopped = o ?? {};
      },
    },
    layer2: { setOwned: (e) => owned.push(e), stop: () => undefined },
  };
  const rt = new Standalone(
    { paths: ['/nowhere'], node: 'n1', nodeAddress: '192.0.2.1', statePath, logger: pino({ level: 'silent' }) },
    deps,
  );
  return {
    rt,
    plans,
    owned,
    set: (i: InputSetLike) => (current = i),
    stopped: () => stopped,
    planInput: () => planInput,
  };
}

test('no valid config: not ready, nothing planned, errors in status', () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const h = harness(join(d, 'state.json'));
    h.set(inputs(undefined, [], ['not a CIDR']));
    const r = h.rt.start();
    assert.equal(r.ok, false);
    assert.equal(h.rt.ready(), false);
    assert.equal(h.plans.length, 0);
    const st = h.rt.status();
    assert.deepEqual(st.configErrors, ['bad.yaml:3: IPAddressPool/pool: spec.addresses[0]: not a CIDR']);
    assert.equal(st.stale, false);
    assert.deepEqual(st.sessions, []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('services get IPs, plan reaches the speaker, state persisted, synthesized node', () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const sp = join(d, 'state.json');
    const h = harness(sp);
    h.set(inputs(config('198.51.100.10/31'), [svc('a'), svc('b')]));
    assert.equal(h.rt.start().ok, true);
    assert.equal(h.rt.ready(), true);
    assert.equal(h.plans.length, 1);
    assert.deepEqual(h.owned, [[]]);
    const nodes = h.planInput()?.nodes ?? [];
    assert.deepEqual(nodes, [syntheticNode('n1', '192.0.2.1')]);
    assert.equal(h.planInput()?.assumeEndpoints, true);
    const st = h.rt.status();
    assert.deepEqual(
      st.services.map((s) => [s.name, s.ips, s.pool, s.error]),
      [
        ['a', ['198.51.100.10'], 'pool', null],
        ['b', ['198.51.100.11'], 'pool', null],
      ],
    );
    assert.equal(st.sessions.length, 1);
    assert.deepEqual(st.sessions[0]?.speaker, { peer: 'rtr', state: 'Established', uptimeSeconds: 5 });
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
    h.set(inputs(config('198.51.100.10/31'), [svc('b')]));
    assert.equal(h.rt.reload().changed, true);
    assert.deepEqual(h.plans.at(-1)?.[0]?.routes.length, 1);
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(sp, 'utf8')) as { assignments: object }).assignments), ['default/b']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('invalid edit keeps the last good config and reports stale; fixing it recovers', () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const h = harness(join(d, 'state.json'));
    h.set(inputs(config('198.51.100.10/32'), [svc('a')]));
    h.rt.start();
    h.set(inputs(undefined, [], ['bad prefix']));
    assert.equal(h.rt.reload().ok, false);
    assert.equal(h.plans.length, 1, 'the speaker is not touched');
    const st = h.rt.status();
    assert.equal(st.ready, true);
    assert.equal(st.stale, true);
    assert.equal(st.services[0]?.ips[0], '198.51.100.10');
    assert.equal(st.configErrors.length, 1);
    h.set(inputs(config('198.51.100.10/32'), [svc('a')]));
    assert.equal(h.rt.reload().ok, true);
    assert.equal(h.rt.status().stale, false);
    assert.deepEqual(h.rt.status().configErrors, []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('restart keeps IPs from the state file even when services come in another order', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const sp = join(d, 'state.json');
    const h1 = harness(sp);
    h1.set(inputs(config('198.51.100.10/31'), [svc('zeta')]));
    h1.rt.start();
    h1.set(inputs(config('198.51.100.10/31'), [svc('zeta'), svc('alpha')]));
    h1.rt.reload();
    assert.deepEqual(h1.rt.assignments()['default/zeta']?.ips, ['198.51.100.10']);
    await h1.rt.stop();
    assert.deepEqual(h1.stopped(), { withdraw: true });
    assert.equal(h1.rt.ready(), false);

    // a fresh process: alpha sorts first but must not take zeta's address
    const h2 = harness(sp);
    h2.set(inputs(config('198.51.100.10/31'), [svc('alpha'), svc('zeta')]));
    h2.rt.start();
    assert.deepEqual(h2.rt.assignments(), {
      'default/alpha': { ips: ['198.51.100.11'], pool: 'pool' },
      'default/zeta': { ips: ['198.51.100.10'], pool: 'pool' },
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a throwing loader or planner is contained', () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const h = harness(join(d, 'state.json'));
    h.set(inputs(config('198.51.100.10/32'), [svc('a')]));
    h.rt.start();
    const bad = new Standalone(
      { paths: ['/x'], node: 'n1', nodeAddress: '127.0.0.1', statePath: join(d, 's2.json'), logger: pino({ level: 'silent' }) },
      {
        readInputs: () => {
          throw new Error('boom');
        },
        allocate: fakeAllocate,
        planNode: fakePlan,
        speaker: { setPlan: () => undefined, status: () => [], stop: async () => undefined },
      },
    );
    const r = bad.start();
    assert.equal(r.ok, false);
    assert.match(r.errors[0] ?? '', /reading \/x: boom/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a corrupt state file never swaps IPs silently: previous generation used, /status says so', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-rt-'));
  try {
    const sp = join(d, 'state.json');
    const h1 = harness(sp);
    h1.set(inputs(config('198.51.100.10/31'), [svc('zeta')]));
    h1.rt.start();
    h1.set(inputs(config('198.51.100.10/31'), [svc('zeta'), svc('alpha')]));
    h1.rt.reload();
    h1.rt.flushState();
    await h1.rt.stop();
    // the newest generation has both; its predecessor only zeta. Truncate the newest.
    writeFileSync(sp, readFileSync(sp, 'utf8').slice(0, 20));

    const h2 = harness(sp);
    h2.set(inputs(config('198.51.100.10/31'), [svc('alpha'), svc('zeta')]));
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
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
