// BFD in the Kubernetes speaker: test API server + one `metallb-ts speaker` process in its own
// namespace + FRR (zebra + bfdd + bgpd, `neighbor X bfd profile`). A BGPPeer with bfdProfile
// (100 ms x 3) gets a BFD session: Up at FRR and in the speaker's /status and /metrics;
// freezing the speaker takes FRR's BFD (and BGP) session down. The speaker's BGPSessionState
// shows the real BFD state: Up, Down while FRR's bfdd is frozen, Up again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FakeApiServer } from '../../support/apiserver/index.ts';
import { R } from '../../../src/kube/client.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { createReadyNode, speakerGet, startLabApiServer, startSpeakerInLab } from '../lib/kubespeaker.ts';
import { Lab } from '../lib/netns.ts';
import { runnable } from '../lib/prereq.ts';
import { waitFor, type Managed } from '../lib/proc.ts';
import { Frr } from '../lib/routers.ts';
import { bfdTestsMissing } from './prereq.ts';

const NS = 'metallb-system';
const FWD_PORT = 16444;
const why = bfdTestsMissing();

let lab: Lab | undefined;
let server: FakeApiServer | undefined;
let frr: Frr | undefined;
const procs: Managed[] = [];
let speaker: Managed | undefined;
let client: KubeClient | undefined;

before(async () => {
  if (why) return;
  lab = new Lab('bfdkube').setup();
  const a = lab.addr;
  ({ server, client } = await startLabApiServer(lab));
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64600,
    routerId: a.rtr4[0]!,
    listen4: [a.rtr4[0]!],
    listen6: [],
    neighbors: [{ name: 'node0', address: a.dut4[0]!, asn: 64700, bfd: true }],
    bfd: { receiveMs: 100, transmitMs: 100, detectMultiplier: 3 },
  });
  await frr.start();
  await client.create(R.namespaces, { metadata: { name: NS } });
  await createReadyNode(client, 'node-0', a.dut4[0]!);
  await client.create(R.bfdprofiles, { metadata: { name: 'fast', namespace: NS }, spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } });
  await client.create(R.bgppeers, { metadata: { name: 'frr', namespace: NS }, spec: { myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0], bfdProfile: 'fast' } });
  const started = startSpeakerInLab(lab, server, { node: 'node-0', forwardPort: FWD_PORT, extraArgs: ['--log-level', 'debug'] });
  speaker = started.speaker;
  procs.push(...started.procs);
});

after(async () => {
  speaker?.signal('SIGCONT');
  for (const p of procs.reverse()) await p.stop();
  await frr?.stop();
  await server?.close();
  lab?.destroy();
});

async function get(path: string): Promise<string> {
  const r = await speakerGet(lab!, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
  return r.body;
}
/** status.bfdStatus of the node's BGPSessionState for the FRR peer. */
async function stateBfd(): Promise<string | undefined> {
  const items = (await client!.list<KubeObject & { status?: { peer?: string; bgpStatus?: string; bfdStatus?: string } }>(R.bgpsessionstates, { namespace: NS })).items;
  const o = items.find((x) => x.status?.peer === lab!.addr.rtr4[0]);
  return o ? `${o.status?.bgpStatus ?? ''}/${o.status?.bfdStatus ?? ''}` : undefined;
}
const frrBfd = async (): Promise<string | undefined> => (await frr!.bfdPeers()).find((p) => p.peer === lab!.addr.dut4[0])?.status;

test('speaker: BFD Up at FRR and in /status + /metrics; SIGSTOP of the speaker takes FRR BFD and BGP down', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  await frr!.waitEstablished([a.dut4[0]!], 30000);
  await waitFor('FRR BFD up', async () => ((await frrBfd()) === 'up' ? true : undefined), 20000, 100);
  const st = await waitFor('speaker /status sessions[0].speaker.bfd Up', async () => {
    const doc = JSON.parse(await get('/status')) as { sessions?: { speaker: { state: string; bfd?: { state: string; profile: string; detectionTimeMs: number } } | null }[] };
    const s = doc.sessions?.[0]?.speaker;
    return s?.bfd?.state === 'Up' ? s : undefined;
  }, 15000, 200);
  assert.equal(st.state, 'Established');
  assert.equal(st.bfd?.profile, 'fast');
  assert.equal(st.bfd?.detectionTimeMs, 300);
  // the BGPSessionState object shows the real BFD state (issue 12: it used to say Down)
  await waitFor('BGPSessionState Established/Up', async () => ((await stateBfd()) === 'Established/Up' ? true : undefined), 15000, 100).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}: BGPSessionState says ${await stateBfd()}`);
  });
  const m = await get('/metrics');
  assert.match(m, new RegExp(`metallb_bfd_session_up\\{peer="${a.rtr4[0]!.replace(/\./g, '\\.')}"\\} 1`));
  assert.match(m, /metallb_bfd_control_packet_input\{peer="[^"]+"\} [1-9]/);

  speaker!.signal('SIGSTOP');
  try {
    await waitFor('FRR BFD down', async () => ((await frrBfd()) === 'down' ? true : undefined), 5000, 20);
    await waitFor('FRR BGP down (bfd)', async () => ((await frr!.states())[a.dut4[0]!] !== 'established' ? true : undefined), 5000, 50);
  } finally {
    speaker!.signal('SIGCONT');
  }
  await frr!.waitEstablished([a.dut4[0]!], 30000);
  await waitFor('FRR BFD up again', async () => ((await frrBfd()) === 'up' ? true : undefined), 20000, 100);
});

test('speaker: FRR bfdd frozen -> BGPSessionState BFD Down (BGP held down); SIGCONT -> Up and Established again', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  await frr!.waitEstablished([a.dut4[0]!], 30000);
  await waitFor('BGPSessionState Established/Up', async () => ((await stateBfd()) === 'Established/Up' ? true : undefined), 20000, 100);
  const bfdd = frr!.daemon('bfdd');
  bfdd.signal('SIGSTOP');
  try {
    const seen = await waitFor('BGPSessionState BFD Down', async () => {
      const s = await stateBfd();
      return s?.endsWith('/Down') ? s : undefined;
    }, 15000, 50);
    // BFD Down holds the BGP session down: the object never shows Established with BFD Down
    assert.notEqual(seen, 'Established/Down');
  } finally {
    bfdd.signal('SIGCONT');
  }
  await waitFor('BGPSessionState Established/Up again', async () => ((await stateBfd()) === 'Established/Up' ? true : undefined), 30000, 100);
});
