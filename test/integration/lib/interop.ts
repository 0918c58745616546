// The interop suite run against each real router (BIRD 2, FRR, GoBGP): one router process and
// one `metallb-ts standalone` process per test file, in two namespaces joined by a veth pair.
//
// Two standalone processes (nodes) share one manifest folder, as two MetalLB speakers share one
// cluster configuration: node dut-e (namespace dut0, AS 64700) has the eBGP sessions, node
// dut-i (namespace dut1, AS 64600 like the router) the iBGP ones; BGPPeer nodeSelectors pick.
//   e4: eBGP over IPv4   i4: iBGP over IPv4   e6: eBGP over IPv6   i6: iBGP over IPv6
// Configuration: seed 001 verbatim (first-pool 198.51.100.10/24 + advertisements `local` and
// `external`), plus a pool with localPref/communities/large communities per family.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { Lab } from './netns.ts';
import { missing, runnable } from './prereq.ts';
import { ROUTER_BINS, makeRouter } from './routers.ts';
import type { Router, RouterKind, RouterRoute } from './routers.ts';
import { REPO_ROOT, StandaloneProcess, removeManifest, writeManifest } from './standalone.ts';
import type { StandaloneStatusView } from './standalone.ts';

export const ROUTER_ASN = 64600;
export const EBGP_ASN = 64700;

export type SessionKind = 'e4' | 'i4' | 'e6' | 'i6';
export const SESSION_KINDS: SessionKind[] = ['e4', 'i4', 'e6', 'i6'];

export function poolsYaml(): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: first-pool
  namespace: metallb-system
spec:
  addresses:
  - 198.51.100.10/24
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: attr-pool
  namespace: metallb-system
spec:
  addresses:
  - 203.0.113.0/24
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: v6-pool
  namespace: metallb-system
spec:
  addresses:
  - 2001:db8:100::/120
`;
}

export function advertisementsYaml(): string {
  return `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: local
  namespace: metallb-system
spec:
  ipAddressPools:
  - first-pool
  aggregationLength: 32
  localpref: 100
  communities:
  - 65535:65282
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: external
  namespace: metallb-system
spec:
  ipAddressPools:
  - first-pool
  aggregationLength: 24
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: attrs
  namespace: metallb-system
spec:
  ipAddressPools:
  - attr-pool
  localPref: 150
  communities:
  - 64512:7
  - large:64512:1:2
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: attrs6
  namespace: metallb-system
spec:
  ipAddressPools:
  - v6-pool
  localPref: 160
  communities:
  - 64512:6
  - large:64512:6:6
`;
}

export interface PeerYamlOpts {
  name: string;
  myASN: number;
  peerASN: number;
  peerAddress: string;
  sourceAddress?: string;
  holdTime?: string;
  routerID?: string;
  ebgpMultiHop?: boolean;
  peerPort?: number;
  /** kubernetes.io/hostname the peer is restricted to. */
  node?: string;
}

export function peerYaml(p: PeerYamlOpts): string {
  return `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: ${p.name}
  namespace: metallb-system
spec:
  myASN: ${p.myASN}
  peerASN: ${p.peerASN}
  peerAddress: ${p.peerAddress}
${p.peerPort !== undefined ? `  peerPort: ${p.peerPort}\n` : ''}${p.sourceAddress ? `  sourceAddress: ${p.sourceAddress}\n` : ''}${p.routerID ? `  routerID: ${p.routerID}\n` : ''}${p.ebgpMultiHop ? '  ebgpMultiHop: true\n' : ''}${p.node ? `  nodeSelectors:\n  - matchLabels:\n      kubernetes.io/hostname: ${p.node}\n` : ''}  holdTime: ${p.holdTime ?? '9s'}
  connectTime: 1s
`;
}

export function serviceYaml(name: string, ip?: string, family: 'IPv4' | 'IPv6' = 'IPv4'): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
${ip ? `  annotations:\n    metallb.io/loadBalancerIPs: "${ip}"\n` : ''}spec:
  type: LoadBalancer
  ipFamilies: [${family}]
  ipFamilyPolicy: SingleStack
  ports:
  - port: 80
    protocol: TCP
`;
}

export type Expected = Omit<RouterRoute, 'peer' | 'med'>;

/** What each session must carry, independently of the planner (derived from the YAML above). */
export function expectedRoutes(s: SessionKind, lab: Lab, opts: { withAttr?: boolean; routerKind: RouterKind }): Expected[] {
  const ebgp = s.startsWith('e');
  const v6 = s.endsWith('6');
  const idx = ebgp ? 0 : 1;
  const nextHop = (v6 ? lab.addr.dut6 : lab.addr.dut4)[idx] ?? '';
  const asPath = ebgp ? [EBGP_ASN] : [];
  // eBGP: we send no LOCAL_PREF; BIRD shows its own default (100) on eBGP routes, FRR/GoBGP none.
  const lp = (v: number): number | null => (ebgp ? (opts.routerKind === 'bird' ? 100 : null) : v);
  const base = { nextHop, asPath, origin: 'incomplete' };
  if (v6) {
    return [{ ...base, prefix: '2001:db8:100::7/128', localPref: lp(160), communities: ['64512:6'], largeCommunities: ['64512:6:6'] }];
  }
  const out: Expected[] = [
    { ...base, prefix: '198.51.100.0/24', localPref: lp(0), communities: [], largeCommunities: [] },
    { ...base, prefix: '198.51.100.10/32', localPref: lp(100), communities: ['65535:65282'], largeCommunities: [] },
  ];
  if (opts.withAttr ?? true) {
    out.push({ ...base, prefix: '203.0.113.7/32', localPref: lp(150), communities: ['64512:7'], largeCommunities: ['64512:1:2'] });
  }
  return out;
}

function normalizePrefix(p: string): string {
  return p.toLowerCase();
}

export function routesOf(all: RouterRoute[], peer: string): Expected[] {
  return all
    .filter((r) => r.peer === peer)
    .map(({ peer: _p, med: _m, ...r }) => ({ ...r, prefix: normalizePrefix(r.prefix) }))
    .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

function canon(r: Expected): unknown[] {
  return [r.prefix, r.nextHop, r.asPath, r.localPref, r.origin, r.communities, r.largeCommunities];
}

export function sameRoutes(a: Expected[], b: Expected[]): boolean {
  return JSON.stringify(a.map(canon)) === JSON.stringify(b.map(canon));
}

export interface Ctx {
  lab: Lab;
  router: Router;
  /** [dut-e, dut-i] */
  sa: StandaloneProcess[];
  manifests: string;
  peerAddr: Record<SessionKind, string>;
}

/** Registers the whole interop suite for one router kind. */
export function interopSuite(kind: RouterKind): void {
  describe(`interop with ${kind}`, { concurrency: false }, () => {
    const why = missing(['ip', ...ROUTER_BINS[kind]]);
    let ctx: Ctx | undefined;
    const need = (t: TestContext): Ctx | undefined => {
      if (!runnable(t, why)) return undefined;
      if (!ctx) throw new Error('setup failed (see before hook)');
      return ctx;
    };

    const expectAll = async (c: Ctx, withAttr = true): Promise<void> => {
      for (const s of SESSION_KINDS) {
        const want = expectedRoutes(s, c.lab, { withAttr, routerKind: kind }).map((r) => ({ ...r, prefix: normalizePrefix(r.prefix) }));
        const peer = c.peerAddr[s];
        const got = await c.router.waitRoutes(`${kind}: routes from ${s} (${peer})`, (all) => sameRoutes(routesOf(all, peer), want), 20000).catch((e: Error) => e);
        if (got instanceof Error) {
          const all = await c.router.routes();
          assert.deepEqual(routesOf(all, peer), want, `${kind} ${s}: routes differ\n${got.message.split('\n')[0]}`);
        }
      }
    };

    before(async () => {
      if (why) return;
      const lab = new Lab(kind, { duts: 2 }).setup();
      try {
        const a = lab.addr;
        const peerAddr: Record<SessionKind, string> = { e4: a.dut4[0] ?? '', e6: a.dut6[0] ?? '', i4: a.dut4[1] ?? '', i6: a.dut6[1] ?? '' };
        const idx = (s: SessionKind): number => (s.startsWith('e') ? 0 : 1);
        const rtrAddr = (s: SessionKind): string => (s.endsWith('6') ? a.rtr6 : a.rtr4)[idx(s)] ?? '';
        const router = makeRouter(kind, {
          ns: lab.nsRtr,
          dir: join(lab.dir, kind),
          asn: ROUTER_ASN,
          routerId: a.rtr4[0] ?? '',
          listen4: a.rtr4,
          listen6: a.rtr6,
          zebra: kind === 'frr',
          neighbors: SESSION_KINDS.map((s) => ({
            name: `dut_${s}`,
            address: peerAddr[s],
            asn: s.startsWith('e') ? EBGP_ASN : ROUTER_ASN,
            localAddress: rtrAddr(s),
          })),
        });
        await router.start();
        const manifests = join(lab.dir, 'manifests');
        writeManifest(manifests, 'pools.yaml', poolsYaml());
        writeManifest(manifests, 'advertisements.yaml', advertisementsYaml());
        writeManifest(
          manifests,
          'peers.yaml',
          SESSION_KINDS.map((s) =>
            peerYaml({
              name: `rtr-${s}`,
              myASN: s.startsWith('e') ? EBGP_ASN : ROUTER_ASN,
              peerASN: ROUTER_ASN,
              peerAddress: rtrAddr(s),
              node: s.startsWith('e') ? 'dut-e' : 'dut-i',
            }),
          ).join('---\n'),
        );
        writeManifest(manifests, 'svc-seed.yaml', serviceYaml('seed', '198.51.100.10'));
        writeManifest(manifests, 'svc-attr.yaml', serviceYaml('attr', '203.0.113.7'));
        writeManifest(manifests, 'svc-v6.yaml', serviceYaml('six', '2001:db8:100::7', 'IPv6'));
        const sa = ['dut-e', 'dut-i'].map(
          (node, i) =>
            new StandaloneProcess({
              ns: lab.duts[i] ?? '',
              manifests,
              statePath: join(lab.dir, `state-${node}.json`),
              node,
              nodeAddress: a.dut4[i] ?? '',
              httpPort: 7472,
              logFile: join(lab.dir, `standalone-${node}.log`),
            }),
        );
        for (const p of sa) p.start();
        ctx = { lab, router, sa, manifests, peerAddr };
        for (const p of sa) await p.waitReady();
      } catch (e) {
        if (!ctx) lab.destroy();
        throw e;
      }
    });

    after(async () => {
      if (!ctx) return;
      try {
        for (const p of ctx.sa) await p.stop();
        await ctx.router.stop();
      } finally {
        ctx.lab.destroy();
      }
    });

    it('all four sessions (eBGP/iBGP x IPv4/IPv6) reach Established', async (t) => {
      const c = need(t);
      if (!c) return;
      await c.router.waitEstablished(SESSION_KINDS.map((s) => c.peerAddr[s]), 40000);
      for (const [i, kinds] of [[0, ['e4', 'e6']], [1, ['i4', 'i6']]] as const) {
        const st: StandaloneStatusView | undefined = await c.sa[i]?.status();
        assert.deepEqual(
          st?.sessions.map((s) => [s.peer, s.speaker?.state]),
          kinds.map((s) => [`rtr-${s}`, 'Established']),
        );
      }
    });

    it('routes carry the exact next hop, AS path, LOCAL_PREF, communities and large communities (seed 001 included)', async (t) => {
      const c = need(t);
      if (!c) return;
      await expectAll(c);
      // /status shows the same routes the router received (prefix and attributes as planned)
      for (const s of SESSION_KINDS) {
        const st: StandaloneStatusView | undefined = await c.sa[s.startsWith('e') ? 0 : 1]?.status();
        const planned: unknown[][] | undefined = st?.sessions.find((x) => x.peer === `rtr-${s}`)?.routes.map((r) => [r.prefix, r.communities, r.largeCommunities]);
        const want: unknown[][] = expectedRoutes(s, c.lab, { routerKind: kind }).map((r) => [r.prefix, r.communities, r.largeCommunities]);
        assert.deepEqual(planned, want, `/status routes of rtr-${s}`);
      }
    });

    it('`metallb-ts plan` on the same folder predicted exactly what the router holds', async (t) => {
      const c = need(t);
      if (!c) return;
      await expectAll(c);
      const all = await c.router.routes();
      for (const [i, node] of ['dut-e', 'dut-i'].entries()) {
        const r: SpawnSyncReturns<string> = spawnSync(
          process.execPath,
          [join(REPO_ROOT, 'bin', 'metallb-ts.js'), 'plan', '-f', c.manifests, '-o', 'json', '--node', node, '--node-address', c.lab.addr.dut4[i] ?? ''],
          { encoding: 'utf8', timeout: 30000 },
        );
        assert.equal(r.status, 0, r.stderr);
        const plan = JSON.parse(r.stdout) as {
          bgp: { node: string; peer: string; ebgp: boolean; routes: { prefix: string; nextHop: string | null; localPref: number | null; communities: string[]; largeCommunities: string[] }[] }[];
        };
        for (const s of SESSION_KINDS.filter((k) => k.startsWith(i === 0 ? 'e' : 'i'))) {
          const session = plan.bgp.find((b) => b.node === node && b.peer === `rtr-${s}`);
          assert.ok(session, `plan has a session ${node} -> rtr-${s}`);
          const v4 = !s.endsWith('6');
          const predicted: unknown[][] = session.routes
            .filter((x) => x.prefix.includes(':') !== v4)
            .map((x) => [
              normalizePrefix(x.prefix),
              v4 ? x.nextHop : null, // plan knows only the IPv4 node address given on the command line
              session.ebgp ? null : x.localPref, // BIRD shows its own default on eBGP routes
              x.communities,
              x.largeCommunities,
            ]);
          const held: unknown[][] = routesOf(all, c.peerAddr[s]).map((x) => [x.prefix, v4 ? x.nextHop : null, session.ebgp ? null : x.localPref, x.communities, x.largeCommunities]);
          assert.deepEqual(held, predicted, `${kind} holds exactly what plan predicted for ${node} -> rtr-${s}`);
        }
      }
    });

    it('deleting a Service (its file) withdraws its routes; re-adding announces them again', async (t) => {
      const c = need(t);
      if (!c) return;
      removeManifest(c.manifests, 'svc-attr.yaml');
      await expectAll(c, false);
      writeManifest(c.manifests, 'svc-attr.yaml', serviceYaml('attr', '203.0.113.7'));
      await expectAll(c, true);
    });

    it('a new Service file is announced, a changed one moves; under an invalid config file Service changes keep flowing', async (t) => {
      const c = need(t);
      if (!c) return;
      const t0 = Date.now();
      writeManifest(c.manifests, 'svc-new.yaml', serviceYaml('new', '203.0.113.8'));
      await c.router.waitRoutes('203.0.113.8/32 on e4', (all) => routesOf(all, c.peerAddr.e4).some((r) => r.prefix === '203.0.113.8/32'));
      t.diagnostic(`file written -> route in ${kind}'s table (incl. CLI polling): ${Date.now() - t0} ms`);
      // a changed Service: its address moves
      writeManifest(c.manifests, 'svc-new.yaml', serviceYaml('new', '203.0.113.9'));
      await c.router.waitRoutes('203.0.113.8/32 replaced by .9 on e4 and i4', (all) =>
        [c.peerAddr.e4, c.peerAddr.i4].every((p) => {
          const prefixes = routesOf(all, p).map((r) => r.prefix);
          return prefixes.includes('203.0.113.9/32') && !prefixes.includes('203.0.113.8/32');
        }),
      );
      writeManifest(c.manifests, 'broken.yaml', 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: broken\nspec:\n  addresses:\n  - 10.0.0.300/32\n');
      removeManifest(c.manifests, 'svc-new.yaml');
      const st = await waitStatus(c, (s) => s.stale);
      assert.ok(st.configErrors.some((e) => e.includes('broken')), JSON.stringify(st.configErrors));
      // the last good configuration stays in force, and the removed Service is withdrawn under it
      // (issue 15: a broken pool file must not freeze Service changes)
      await c.router.waitRoutes('203.0.113.9/32 withdrawn while the config is stale', (all) =>
        [c.peerAddr.e4, c.peerAddr.i4].every((p) => !routesOf(all, p).some((r) => r.prefix === '203.0.113.9/32')),
      );
      assert.equal((await waitStatus(c, () => true)).stale, true, 'still stale until the file is fixed');
      removeManifest(c.manifests, 'broken.yaml');
      await waitStatus(c, (s) => !s.stale && s.configErrors.length === 0);
      await expectAll(c);
    });

    it('restarting the router re-establishes every session and re-announces every route', async (t) => {
      const c = need(t);
      if (!c) return;
      await c.router.restart();
      await c.router.waitEstablished(SESSION_KINDS.map((s) => c.peerAddr[s]), 40000);
      await expectAll(c);
    });

    it('SIGTERM withdraws every route cleanly and exits 0', async (t) => {
      const c = need(t);
      if (!c) return;
      for (const p of c.sa) p.proc?.signal('SIGTERM');
      for (const p of c.sa) {
        assert.equal(await p.proc?.waitExit(10000), true, 'standalone exits');
        assert.equal(p.proc?.exitCode, 0);
      }
      // the routes went away promptly (withdrawn, or dropped on the Cease): well within hold time
      await c.router.waitRoutes('no routes from the speaker', (all) => SESSION_KINDS.every((s) => routesOf(all, c.peerAddr[s]).length === 0), 5000);
    });
  });
}

async function waitStatus(c: Ctx, pred: (s: Awaited<ReturnType<StandaloneProcess['status']>>) => boolean, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = await (c.sa[0] as StandaloneProcess).status();
    if (pred(st)) return st;
    if (Date.now() > end) throw new Error(`/status condition not met: ${JSON.stringify({ stale: st.stale, errors: st.configErrors })}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
