// The BGPAdvertisement annotation metallb-ts.io/weighted-ecmp: accepted value, clear error for
// others, warning with did-you-mean for a misspelled metallb-ts.io/ key; and the planner's
// weights from it (the plan fixture test/fixtures/plan/weighted, through the plan command).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, load, pool } from './helpers.ts';
import { runCli } from '../helpers/cli.ts';
import type { PlanJSON } from '../../../src/planner/index.ts';

const adv = (annotations: Record<string, string>): string => doc('BGPAdvertisement', 'a', { ipAddressPools: ['p'] }, 'metallb.io/v1beta1', { namespace: 'metallb-system', annotations });

test('metallb-ts.io/weighted-ecmp: "endpoints" turns it on; absent = off', () => {
  const on = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecmp': 'endpoints' }));
  assert.deepEqual(on.errors, []);
  assert.equal(on.config?.bgpAdvertisements[0]?.weightedECMP, 'endpoints');
  const off = load(pool('p', ['10.0.0.0/24']), adv({ 'example.com/other': 'x' }));
  assert.deepEqual(off.errors, []);
  assert.equal(off.config?.bgpAdvertisements[0]?.weightedECMP, undefined);
});

test('a bad weighted-ecmp value is an error naming the annotation and the valid mode', () => {
  for (const v of ['Endpoints', 'true', '']) {
    const set = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecmp': v }));
    assert.equal(set.errors.length, 1, JSON.stringify(set.errors));
    const e = set.errors[0];
    assert.equal(e?.kind, 'BGPAdvertisement');
    assert.equal(e?.field, 'metadata.annotations["metallb-ts.io/weighted-ecmp"]');
    assert.match(e?.message ?? '', new RegExp(`^${JSON.stringify(v)} is not a weighted-ECMP mode: the only mode is "endpoints"`));
    assert.ok((e?.line ?? 0) > 0);
  }
});

test('a misspelled metallb-ts.io/ annotation is a warning with did-you-mean', () => {
  const set = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecpm': 'endpoints' }));
  assert.deepEqual(set.errors, []);
  const w = set.warnings.find((x) => x.field.startsWith('metadata.annotations'));
  assert.match(w?.message ?? '', /unknown metallb-ts annotation on a BGPAdvertisement \(ignored\).*metallb-ts\.io\/weighted-ecmp/);
  assert.equal(set.config?.bgpAdvertisements[0]?.weightedECMP, undefined);
});

test('plan: each node carries its ready local endpoints as weight, with the link-bandwidth community; Cluster Services none', async () => {
  const r = await runCli('plan', '-f', 'test/fixtures/plan/weighted', '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJSON;
  const got = plan.bgp.map((s) => [s.node, s.routes.map((x) => [x.prefix, x.weight ?? null, x.linkBandwidth ?? null])]);
  assert.deepEqual(got, [
    ['worker-1', [['203.0.113.5/32', 1, 'LB:64512:125000'], ['203.0.113.6/32', null, null]]],
    ['worker-2', [['203.0.113.5/32', 3, 'LB:64512:375000'], ['203.0.113.6/32', null, null]]],
  ]);
  const table = await runCli('plan', '-f', 'test/fixtures/plan/weighted', '--node', 'worker-2');
  assert.match(table.stdout, /203\.0\.113\.5\/32 +10\.0\.0\.2 +weight 3 \(LB:64512:375000\)/);
});

test('metallb-ts.io/weight-update-interval: a Go duration up to 1h; metallb-ts.io/local-fallback: "all-nodes"; bad values are errors', () => {
  const ok = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecmp': 'endpoints', 'metallb-ts.io/weight-update-interval': '250ms', 'metallb-ts.io/local-fallback': 'all-nodes' }));
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.warnings, []);
  const a = ok.config?.bgpAdvertisements[0];
  assert.deepEqual([a?.weightIntervalMs, a?.localFallback], [250, 'all-nodes']);
  assert.equal(load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecmp': 'endpoints', 'metallb-ts.io/weight-update-interval': '0s' })).config?.bgpAdvertisements[0]?.weightIntervalMs, 0);
  for (const v of ['1', 'fast', '-1s', '2h']) {
    const set = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weighted-ecmp': 'endpoints', 'metallb-ts.io/weight-update-interval': v }));
    assert.equal(set.errors.length, 1, v);
    assert.equal(set.errors[0]?.field, 'metadata.annotations["metallb-ts.io/weight-update-interval"]');
    assert.match(set.errors[0]?.message ?? '', /is not a weight update interval: want a duration from "0s" \(no limit\) to "1h"/);
  }
  for (const v of ['true', 'All-Nodes']) {
    const set = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/local-fallback': v }));
    assert.equal(set.errors.length, 1, v);
    assert.match(set.errors[0]?.message ?? '', /is not a local-fallback mode: the only mode is "all-nodes"/);
  }
  // the interval without weighted ECMP does nothing: a warning says so
  const lone = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/weight-update-interval': '1s' }));
  assert.deepEqual(lone.errors, []);
  assert.match(lone.warnings.map((w) => w.message).join('\n'), /has no effect without metallb-ts\.io\/weighted-ecmp: "endpoints"/);
  // misspelling: did-you-mean
  const typo = load(pool('p', ['10.0.0.0/24']), adv({ 'metallb-ts.io/local-fallbak': 'all-nodes' }));
  assert.match(typo.warnings.map((w) => w.message).join('\n'), /metallb-ts\.io\/local-fallback/);
});

test('weighted ECMP with aggregationLength: a warning that aggregates carry no link bandwidth', () => {
  const set = load(pool('p', ['10.0.0.0/24']), doc('BGPAdvertisement', 'a', { ipAddressPools: ['p'], aggregationLength: 24 }, 'metallb.io/v1beta1', { namespace: 'metallb-system', annotations: { 'metallb-ts.io/weighted-ecmp': 'endpoints' } }));
  assert.deepEqual(set.errors, []);
  assert.match(set.warnings.map((w) => w.message).join('\n'), /weights apply to host routes \(\/32, \/128\) only/);
});
