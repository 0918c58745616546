// Weighted ECMP against real FRR, the parts beyond the IPv4 basics (weighted-ecmp.test.ts):
// IPv6 (a dual-stack Service: the /128 travels in MP_REACH_NLRI with the link-bandwidth
// extended community, FRR installs both IPv6 next hops weighted 1:3, `ip -6 route` in the router
// namespace shows them); the rate limit (a burst of endpoint changes gives a bounded number of
// UPDATEs at FRR, counted with `show bgp neighbors json`, and the final weights); the local
// fallback (no ready endpoint anywhere: both nodes announce with the fallback weight; an endpoint
// ready again: back to that node alone).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missing, runnable } from '../lib/prereq.ts';
import { waitFor } from '../lib/proc.ts';
import { ROUTER_BINS } from '../lib/routers.ts';
import { WeightLab, advertisementYaml, endpointSlicesYaml, localServiceYaml, ratio } from '../lib/weightlab.ts';
import type { Hop } from '../lib/weightlab.ts';

const NODES = ['dut-a', 'dut-b'] as const;
const IP4 = '198.51.100.88';
const IP6 = '2001:db8:77::88';
const P4 = `${IP4}/32`;
const P6 = `${IP6}/128`;
/** The rate limit of the burst test (annotation metallb-ts.io/weight-update-interval). */
const INTERVAL_MS = 2000;

describe('weighted ECMP: IPv6, rate limit, local fallback (FRR, dual-stack sessions)', { concurrency: false }, () => {
  const why = missing(['ip', ...ROUTER_BINS.frr]);
  let w: WeightLab | undefined;
  const slices = (counts: readonly number[], notReady: readonly number[] = []): string => endpointSlicesYaml('web', NODES, counts, [4, 6], notReady);

  before(async () => {
    if (why) return;
    w = await WeightLab.start({
      label: 'wchurn',
      nodes: NODES,
      ipv6: true,
      manifests: {
        'pool.yaml': advertisementYaml({ weighted: true, interval: `${INTERVAL_MS}ms` }),
        'svc.yaml': localServiceYaml('web', [IP4, IP6]),
        'endpoints.yaml': slices([1, 3]),
      },
    });
  });

  after(() => w?.stop());

  it('dual-stack Service: the /128 has both IPv6 next hops weighted 1:3 in FRR and in the kernel (as the /32)', async (t) => {
    if (!runnable(t, why) || !w) return;
    const a = w.lab.addr;
    const h6 = await w.waitHops(P6, 'two weighted IPv6 next hops at FRR', (h) => ratio(h, 1, 3));
    t.diagnostic(`FRR IPv6 weights: ${JSON.stringify(h6)}`);
    assert.deepEqual(h6.map((h) => h.ip), [a.dut6[0], a.dut6[1]]);
    const k6 = await waitFor('the weighted /128 in the router kernel', () => {
      const h = w?.kernelHops(P6) ?? [];
      return h.length === 2 ? h : undefined;
    }, 10000);
    t.diagnostic(`kernel IPv6 weights (ip -6 route): ${JSON.stringify(k6)}`);
    assert.deepEqual(k6.map((h) => h.ip), [a.dut6[0], a.dut6[1]]);
    assert.ok(ratio(k6, 1, 3), `kernel weights ${JSON.stringify(k6)} are not 1:3`);
    const detail = await w.frr.vtysh(`show bgp ipv6 unicast ${P6}`);
    assert.match(detail, /LB:64720:125000 /);
    assert.match(detail, /LB:64720:375000 /);
    const h4 = await w.waitHops(P4, 'two weighted IPv4 next hops at FRR', (h) => ratio(h, 1, 3));
    assert.deepEqual(h4.map((h) => h.ip), [a.dut4[0], a.dut4[1]]);
  });

  it('a burst of endpoint changes: a bounded number of UPDATEs per node, the final weights at FRR', async (t) => {
    if (!runnable(t, why) || !w) return;
    const lab = w;
    const addrs = lab.sessionAddresses();
    // an isolated change (nothing sent for an interval) is not held: measured, not asserted
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    const t0 = Date.now();
    lab.write('endpoints.yaml', slices([2, 3]));
    await waitFor('weights 2:3', async () => {
      const h = await lab.hops(P4);
      return h && h.length === 2 && ratio(h, 2, 3) ? true : undefined;
    }, 20000, 5);
    t.diagnostic(`isolated change: file written -> FRR's zebra has the new weights after ${Date.now() - t0} ms`);
    // quiet for one interval, so the first change of the burst is an isolated one
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    const before = await Promise.all(addrs.map((x) => lab.updatesFrom(x)));
    const N = 30;
    const start = Date.now();
    for (let i = 0; i < N; i++) {
      const k = i % 4;
      lab.write('endpoints.yaml', slices([1 + k, 4 - k]));
      await new Promise((r) => setTimeout(r, 50));
    }
    lab.write('endpoints.yaml', slices([1, 4]));
    const burstMs = Date.now() - start;
    const h4 = await lab.waitHops(P4, 'final IPv4 weights 1:4', (h) => ratio(h, 1, 4));
    const h6 = await lab.waitHops(P6, 'final IPv6 weights 1:4', (h) => ratio(h, 1, 4));
    t.diagnostic(`final weights: IPv4 ${JSON.stringify(h4)} IPv6 ${JSON.stringify(h6)}`);
    // every trailing update has been sent once nothing is pending at either node
    await waitFor('no weight held back', async () => {
      const st = await Promise.all(lab.speakers.map((s) => s.status()));
      return st.every((s) => ((s as { weightUpdates?: { pending: unknown[] } }).weightUpdates?.pending.length ?? 1) === 0) ? true : undefined;
    }, 20000);
    await new Promise((r) => setTimeout(r, 500));
    const afterN = await Promise.all(addrs.map((x) => lab.updatesFrom(x)));
    const sent = afterN.map((n, i) => n - (before[i] ?? 0));
    // per session: one isolated change at once, then at most one trailing update per interval
    const bound = 2 + Math.ceil(burstMs / INTERVAL_MS);
    t.diagnostic(`${N + 1} endpoint changes in ${burstMs} ms; UPDATEs received per session ${JSON.stringify(Object.fromEntries(addrs.map((x, i) => [x, sent[i]])))}; bound ${bound}`);
    for (const [i, n] of sent.entries()) assert.ok(n >= 1 && n <= bound, `${addrs[i]}: ${n} UPDATEs for ${N + 1} changes (bound ${bound})`);
    const st = (await lab.speakers[1]?.status()) as { weightUpdates?: { held: number; trailing: number } } | undefined;
    t.diagnostic(`dut-b weightUpdates: ${JSON.stringify(st?.weightUpdates)}`);
    assert.ok((st?.weightUpdates?.held ?? 0) >= 1);
  });

  it('local fallback: no ready endpoint -> both nodes announce with the fallback weight; one ready -> that node alone', async (t) => {
    if (!runnable(t, why) || !w) return;
    const a = w.lab.addr;
    w.write('pool.yaml', advertisementYaml({ weighted: true, fallback: true }));
    w.write('endpoints.yaml', slices([0, 0], [1, 2]));
    const fb: Hop[] = await w.waitHops(P4, 'both nodes announce in fallback', () => true);
    t.diagnostic(`fallback next hops: ${JSON.stringify(fb)}`);
    assert.deepEqual(fb.map((h) => h.ip), [a.dut4[0], a.dut4[1]]);
    await w.waitHops(P6, 'both nodes announce the /128 in fallback', () => true);
    const detail = await w.frr.vtysh(`show bgp ipv4 unicast ${P4}`);
    assert.match(detail, /LB:64720:1250 /);
    const st = (await w.speakers[0]?.status()) as { sessions: { routes: { prefix: string; fallback?: boolean; weight?: number }[] }[] } | undefined;
    const r = st?.sessions.flatMap((s) => s.routes).find((x) => x.prefix === P4);
    assert.deepEqual([r?.fallback, r?.weight], [true, 0.01]);
    // an endpoint becomes ready on dut-b: dut-a withdraws, dut-b announces weight 1
    w.write('endpoints.yaml', slices([0, 1], [1, 1]));
    const one = await w.waitHops(P4, 'dut-b alone', () => true, 1);
    assert.deepEqual(one.map((h) => h.ip), [a.dut4[1]]);
    // without the fallback annotation and no ready endpoint: nobody announces
    w.write('pool.yaml', advertisementYaml({ weighted: true }));
    w.write('endpoints.yaml', slices([0, 0], [1, 1]));
    await waitFor('the /32 gone at FRR', async () => ((await w?.hops(P4)) === undefined ? true : undefined), 20000);
  });
});
