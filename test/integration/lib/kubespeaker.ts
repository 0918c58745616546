// A Kubernetes speaker process in a test network namespace against the test API server: the
// server listens on a Unix socket in the lab's temp dir, a forwarder inside the node namespace
// makes it reachable as http://127.0.0.1:PORT there, and `metallb-ts speaker` runs in that
// namespace (its /status on 127.0.0.1:7472 inside it). Everything started is returned for the
// test's `after` hook (stop by recorded PID).

import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { Lab } from './netns.ts';
import { runAsync, startProcess, type Managed } from './proc.ts';
import { REPO_ROOT } from './standalone.ts';

const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');

/** The test API server on a Unix socket in the lab's dir, and a client for the test itself. */
export async function startLabApiServer(lab: Pick<Lab, 'dir'>): Promise<{ server: FakeApiServer; client: KubeClient }> {
  const server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
  const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
  return { server, client };
}

/** A Ready Node object with this InternalIP. */
export async function createReadyNode(client: KubeClient, name: string, address: string): Promise<void> {
  await client.create(R.nodes, {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address }] },
  });
}

/**
 * Starts the forwarder and `metallb-ts speaker --node-name NODE` in the lab's node namespace
 * (POD_NAME speaker-0, POD_UID uid-0). Returns both processes (forwarder first) and the speaker.
 */
export function startSpeakerInLab(
  lab: Pick<Lab, 'nsDut' | 'dir'>,
  server: FakeApiServer,
  o: { node: string; forwardPort: number; extraArgs?: string[]; env?: NodeJS.ProcessEnv },
): { procs: Managed[]; speaker: Managed } {
  const env = { ...process.env, METALLB_TS_FROM_SOURCE: '1', POD_NAME: 'speaker-0', POD_UID: 'uid-0', ...o.env };
  const forward = join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts');
  const forwarder = startProcess('forwarder', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, '--import', 'tsx', forward, '--listen', String(o.forwardPort), '--socket', join(lab.dir, 'apiserver.sock')], join(lab.dir, 'forward.log'), env);
  const kc = server.writeKubeconfig(join(lab.dir, 'kubeconfig-node'), `http://127.0.0.1:${o.forwardPort}`);
  const args = ['netns', 'exec', lab.nsDut, process.execPath, BIN, 'speaker', '--node-name', o.node, '--kubeconfig', kc, '--http-listen', '127.0.0.1:7472', ...(o.extraArgs ?? [])];
  const speaker = startProcess('speaker', 'ip', args, join(lab.dir, 'speaker.log'), env);
  return { procs: [forwarder, speaker], speaker };
}

/** GET (or POST) on the speaker's HTTP port inside the node namespace: status code (0 = no answer) and body. */
export async function speakerGet(lab: Pick<Lab, 'nsDut'>, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const code = `fetch("http://127.0.0.1:7472${path}", { method: "${method}" }).then(async (r) => process.stdout.write(r.status + "\\n" + await r.text()), () => process.stdout.write("0\\n"))`;
  const r = await runAsync('ip', ['netns', 'exec', lab.nsDut, process.execPath, '-e', code], 15000);
  const [status, ...rest] = r.stdout.split('\n');
  return { status: Number(status), body: rest.join('\n') };
}
