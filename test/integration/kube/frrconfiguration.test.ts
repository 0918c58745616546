// frr-k8s FRRConfiguration in the Kubernetes speaker: the test API server (CRDs served only once
// installed, like kube-apiserver) + one `metallb-ts speaker` process in the node's network
// namespace + FRR (bgpd, AS 64600) announcing 10.77.0.0/24 and 10.78.0.0/24.
//   1. the FRRConfiguration CRD is absent (404): the speaker still syncs, is ready, and its
//      BGPPeer session is Established; nothing is imported (no receive policy);
//   2. the CRD is installed and an FRRConfiguration `toReceive: allowed: mode: all` names the
//      BGPPeer's neighbor: FRR's prefixes land in the node's kernel table (proto bgp);
//   3. the BGPPeer is deleted: the neighbor only in the FRRConfiguration is a session of its own,
//      the routes stay;
//   4. the FRRConfiguration is deleted: the routes leave the kernel, the session and its
//      BGPSessionState object disappear.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { FakeApiServer } from '../../support/apiserver/index.ts';
import { R } from '../../../src/kube/client.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { createReadyNode, speakerGet, startLabApiServer, startSpeakerInLab } from '../lib/kubespeaker.ts';
import { waitFor, type Managed } from '../lib/proc.ts';
import { Frr } from '../lib/routers.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { bgpRouteLines } from '../lib/kernelroutes.ts';

const NS = 'metallb-system';
const FWD_PORT = 16445;
const why = missing(['ip', 'bgpd', 'vtysh']);
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
type State = KubeObject & { status?: { peer?: string; bgpStatus?: string; bfdStatus?: string } };

let lab: Lab | undefined;
let server: FakeApiServer | undefined;
let client: KubeClient | undefined;
let frr: Frr | undefined;
const procs: Managed[] = [];

before(async () => {
  if (why) return;
  lab = new Lab('kfrrcfg').setup();
  const a = lab.addr;
  ({ server, client } = await startLabApiServer(lab));
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64600,
    routerId: a.rtr4[0]!,
    listen4: [a.rtr4[0]!],
    listen6: [],
    neighbors: [{ name: 'node0', address: a.dut4[0]!, asn: 64700, families: [4] }],
  });
  await frr.start();
  await frr.network(['10.77.0.0/24', '10.78.0.0/24']);
  // our CRDs except FRRConfiguration's (a cluster without frr-k8s and an older manifest)
  for (const f of ['frrk8s.metallb.io_bgpsessionstates.yaml']) await client.create(CRDS, parse(readFileSync(join(REPO_ROOT, 'config', 'crd', f), 'utf8')) as KubeObject);
  await client.create(R.namespaces, { metadata: { name: NS } });
  await createReadyNode(client, 'node-0', a.dut4[0]!);
  await client.create(R.bgppeers, { metadata: { name: 'frr', namespace: NS }, spec: { myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0] } });
  procs.push(...startSpeakerInLab(lab, server, { node: 'node-0', forwardPort: FWD_PORT }).procs);
});

after(async () => {
  for (const p of procs.reverse()) await p.stop();
  await frr?.stop();
  await server?.close();
  lab?.destroy();
});

const get = (path: string): Promise<{ status: number; body: string }> => speakerGet(lab!, path);

/** `ip route` lines of protocol bgp in the node's namespace, normalized. */
function kernelRoutes(): string[] {
  return bgpRouteLines(lab!.nsDut);
}

async function sessionStates(): Promise<string[]> {
  const items = (await client!.list<State>(R.bgpsessionstates, { namespace: NS })).items;
  return items.map((o) => `${o.status?.peer ?? ''} ${o.status?.bgpStatus ?? ''} ${o.status?.bfdStatus ?? ''}`).sort();
}

const waitKernel = (what: string, want: string[], ms = 30000): Promise<string[]> =>
  waitFor(what, () => {
    const now = kernelRoutes();
    return JSON.stringify(now) === JSON.stringify([...want].sort()) ? now : undefined;
  }, ms, 100).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}\nkernel now: ${JSON.stringify(kernelRoutes())}\n/status: ${(await get('/status')).body.slice(0, 3000)}`);
  });

test('Kubernetes speaker and FRRConfiguration: CRD absent -> syncs; toReceive all -> kernel routes; FRRConfiguration-only neighbor; deleted -> routes and session gone', { timeout: 240000 }, async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  const rtr = a.rtr4[0]!;
  const via = `via ${rtr} dev eth0 proto bgp metric 20`;

  // 1. no FRRConfiguration CRD: the API server answers 404 for the resource
  await assert.rejects(client!.list(R.frrconfigurations, { namespace: NS }), (e: unknown) => (e as { code?: number }).code === 404);
  await waitFor('speaker ready without the FRRConfiguration CRD', async () => ((await get('/readyz')).status === 200 ? true : undefined), 60000, 200);
  await frr!.waitEstablished([a.dut4[0]!], 30000);
  await waitFor('BGPSessionState Established', async () => {
    const s = await sessionStates();
    return JSON.stringify(s) === JSON.stringify([`${rtr} Established N/A`]) ? true : undefined;
  }, 20000, 200);
  assert.deepEqual(kernelRoutes(), [], 'nothing imported from a peer without a receive policy');
  const log = readFileSync(join(lab!.dir, 'speaker.log'), 'utf8');
  assert.equal(log.split('\n').filter((l) => l.includes('frrconfigurations.frrk8s.metallb.io') && l.includes('not served')).length, 1, 'the absent CRD is logged once');

  // 2. the CRD appears (frr-k8s or our manifest installed it) and an FRRConfiguration with a receive policy
  await client!.create(CRDS, parse(readFileSync(join(REPO_ROOT, 'config', 'crd', 'frrk8s.metallb.io_frrconfigurations.yaml'), 'utf8')) as KubeObject);
  const frrConfig = {
    apiVersion: 'frrk8s.metallb.io/v1beta1',
    kind: 'FRRConfiguration',
    metadata: { name: 'receive-all', namespace: NS },
    spec: { bgp: { routers: [{ asn: 64700, neighbors: [{ address: rtr, asn: 64600, toReceive: { allowed: { mode: 'all' } } }] }] } },
  };
  await client!.create(R.frrconfigurations, frrConfig);
  // the speaker re-checks the absent CRD with backoff (1 s doubling, at most 30 s)
  await waitKernel('FRR prefixes in the node kernel table', [`10.77.0.0/24 ${via}`, `10.78.0.0/24 ${via}`], 90000);
  const st = JSON.parse((await get('/status')).body) as { configValid: boolean; sessions: { speaker: { receiveMode?: string; acceptedPrefixes?: number } | null }[] };
  assert.equal(st.configValid, true);
  assert.equal(st.sessions[0]?.speaker?.receiveMode, 'all');
  assert.equal(st.sessions[0]?.speaker?.acceptedPrefixes, 2);

  // 3. the BGPPeer goes: the neighbor is still in the FRRConfiguration, a session of its own
  await client!.delete(R.bgppeers, NS, 'frr');
  await frr!.waitEstablished([a.dut4[0]!], 30000);
  await waitKernel('routes from the FRRConfiguration-only session', [`10.77.0.0/24 ${via}`, `10.78.0.0/24 ${via}`], 30000);
  await waitFor('one BGPSessionState, Established', async () => {
    const s = await sessionStates();
    return JSON.stringify(s) === JSON.stringify([`${rtr} Established N/A`]) ? true : undefined;
  }, 20000, 200);

  // 4. the FRRConfiguration goes: routes out of the kernel, no session, no BGPSessionState
  await client!.delete(R.frrconfigurations, NS, 'receive-all');
  await waitKernel('routes removed with the FRRConfiguration', []);
  await waitFor('BGPSessionState deleted with the session', async () => ((await sessionStates()).length === 0 ? true : undefined), 20000, 200);
  await waitFor('FRR sees the session closed', async () => ((await frr!.states())[a.dut4[0]!] !== 'established' ? true : undefined), 20000, 200);
});
