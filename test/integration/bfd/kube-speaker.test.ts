// BFD in the Kubernetes speaker: test API server + one `metallb-ts speaker` process in its own
// namespace + FRR (zebra + bfdd + bgpd, `neighbor X bfd profile`). A BGPPeer with bfdProfile
// (100 ms x 3) gets a BFD session: Up at FRR and in the speaker's /status and /metrics;
// freezing the speaker takes FRR's BFD (and BGP) session down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Lab } from '../lib/netns.ts';
import { runnable } from '../lib/prereq.ts';
import { runAsync, startProcess, waitFor, type Managed } from '../lib/proc.ts';
import { Frr } from '../lib/routers.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { bfdTestsMissing } from './prereq.ts';

const NS = 'metallb-system';
const FWD_PORT = 16444;
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
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
  server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
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
  await client.create(R.nodes, {
    metadata: { name: 'node-0', labels: { 'kubernetes.io/hostname': 'node-0' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: a.dut4[0]! }] },
  });
  await client.create(R.bfdprofiles, { metadata: { name: 'fast', namespace: NS }, spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } });
  await client.create(R.bgppeers, { metadata: { name: 'frr', namespace: NS }, spec: { myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0], bfdProfile: 'fast' } });
  const env = { ...process.env, METALLB_TS_FROM_SOURCE: '1', POD_NAME: 'speaker-0', POD_UID: 'uid-0' };
  procs.push(
    startProcess('forwarder', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts'), '--listen', String(FWD_PORT), '--socket', join(lab.dir, 'apiserver.sock')], join(lab.dir, 'forward.log'), env),
  );
  const kc = server.writeKubeconfig(join(lab.dir, 'kubeconfig-node'), `http://127.0.0.1:${FWD_PORT}`);
  speaker = startProcess('speaker', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, BIN, 'speaker', '--node-name', 'node-0', '--kubeconfig', kc, '--http-listen', '127.0.0.1:7472', '--log-level', 'debug'], join(lab.dir, 'speaker.log'), env);
  procs.push(speaker);
});

after(async () => {
  speaker?.signal('SIGCONT');
  for (const p of procs.reverse()) await p.stop();
  await frr?.stop();
  await server?.close();
  lab?.destroy();
});

async function get(path: string): Promise<string> {
  const code = `fetch("http://127.0.0.1:7472${path}").then(async (r) => process.stdout.write(await r.text()))`;
  const r = await runAsync('ip', ['netns', 'exec', lab!.nsDut, process.execPath, '-e', code], 15000);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
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
