// Standalone with a BGPPeer whose TCP-MD5 password comes from a basic-auth Secret in the folder
// (spec.passwordSecret), against a real FRR bgpd that requires `neighbor X password Y`:
//   - no Secret yet: the session is not started, /status says why, FRR stays down;
//   - the Secret with the right password (data, base64): Established, the Service route at FRR;
//   - the Secret changed to a wrong password: the session resets and never comes back up;
//   - the right password again (stringData): Established again.
// One FRR namespace, one DUT namespace (test/integration/lib/netns.ts), cleaned up in `after`.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr, ROUTER_BINS } from '../lib/routers.ts';
import type { RouterOptions } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { sleep, stopAll, waitFor } from '../lib/proc.ts';

const PASSWORD = 'mlbt-md5_Passw0rd.';
const RTR_ASN = 64610;
const DUT_ASN = 64710;

/** FRR with a TCP-MD5 password on every neighbor. */
class FrrMd5 extends Frr {
  constructor(
    opts: RouterOptions,
    private readonly password: string,
  ) {
    super(opts);
  }
  override config(): string {
    return super
      .config()
      .split('\n')
      .flatMap((line) => {
        const m = /^ neighbor (\S+) remote-as /.exec(line);
        return m ? [line, ` neighbor ${m[1] ?? ''} password ${this.password}`] : [line];
      })
      .join('\n');
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function configYaml(routerAddress: string): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pw-pool, namespace: metallb-system }
spec:
  addresses: [198.51.100.64/28]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: pw-adv, namespace: metallb-system }
spec:
  ipAddressPools: [pw-pool]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: frr-md5, namespace: metallb-system }
spec:
  myASN: ${DUT_ASN}
  peerASN: ${RTR_ASN}
  peerAddress: ${routerAddress}
  holdTime: 9s
  connectTime: 1s
  passwordSecret:
    name: bgp-auth
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ port: 80, protocol: TCP }]
`;
}

function secretYaml(field: 'data' | 'stringData', password: string): string {
  const value = field === 'data' ? b64(password) : JSON.stringify(password);
  return `apiVersion: v1
kind: Secret
metadata: { name: bgp-auth, namespace: metallb-system }
type: kubernetes.io/basic-auth
${field}:
  password: ${value}
`;
}

interface SessionView {
  peer: string;
  error?: string | null;
  speaker: { state?: string; counters?: { connectAttempts?: number } } | null;
}

describe('standalone: BGP password from a Secret in the folder (FRR, TCP-MD5)', { concurrency: false }, () => {
  const why = missing(['ip', ...ROUTER_BINS.frr]);
  let lab: Lab | undefined;
  let frr: FrrMd5 | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  let logFile = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const session = async (): Promise<SessionView | undefined> => {
    const st = (await sa?.status()) as unknown as { sessions: SessionView[] } | undefined;
    return st?.sessions.find((s) => s.peer === 'frr-md5');
  };
  const dutState = async (): Promise<string | undefined> => (await frr?.states())?.[lab?.addr.dut4[0] ?? ''];
  const serviceIP = async (): Promise<string> => {
    const ip = (await sa?.status())?.services.find((s) => s.name === 'web')?.ips[0];
    assert.ok(ip, 'the Service has an IP');
    return ip;
  };
  const routePresent = async (ip: string): Promise<boolean> =>
    ((await frr?.routes()) ?? []).some((r) => r.peer === lab?.addr.dut4[0] && r.prefix === `${ip}/32`);

  before(async () => {
    if (why) return;
    lab = new Lab('sapw').setup();
    const a = lab.addr;
    frr = new FrrMd5(
      {
        ns: lab.nsRtr,
        dir: join(lab.dir, 'frr'),
        asn: RTR_ASN,
        routerId: a.rtr4[0] ?? '',
        listen4: a.rtr4,
        listen6: [],
        neighbors: [{ name: 'dut', address: a.dut4[0] ?? '', asn: DUT_ASN }],
      },
      PASSWORD,
    );
    await frr.start();
    assert.match(readFileSync(join(lab.dir, 'frr', 'bgpd.conf'), 'utf8'), new RegExp(`neighbor ${a.dut4[0] ?? ''} password ${PASSWORD}`));
    manifests = join(lab.dir, 'manifests');
    logFile = join(lab.dir, 'standalone.log');
    writeManifest(manifests, 'config.yaml', configYaml(a.rtr4[0] ?? ''));
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'dut',
      nodeAddress: a.dut4[0] ?? '',
      httpPort: 7472,
      logFile,
      extraArgs: ['--log-format', 'json'],
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, frr], () => lab?.destroy()));

  it('without the Secret the session is not started and /status + the log say why', async (t) => {
    if (!need(t)) return;
    const s = await session();
    assert.ok(s, 'the session is listed in /status');
    assert.equal(s.speaker, null, 'not handed to the BGP speaker');
    assert.equal(s.error, 'passwordSecret metallb-system/bgp-auth: Secret not found');
    await waitFor('log line', () => (/BGP session not started: passwordSecret metallb-system\/bgp-auth: Secret not found/.test(readFileSync(logFile, 'utf8')) ? true : undefined), 5000);
    await sleep(2000);
    assert.notEqual(await dutState(), 'established');
  });

  it('the Secret with the right password (data, base64): Established and the route at FRR', async (t) => {
    if (!need(t) || !frr || !lab) return;
    writeManifest(manifests, 'secret.yaml', secretYaml('data', PASSWORD));
    await frr.waitEstablished([lab.addr.dut4[0] ?? ''], 30000);
    const ip = await serviceIP();
    await frr.waitRoutes(`${ip}/32 at FRR`, (all) => all.some((r) => r.peer === lab?.addr.dut4[0] && r.prefix === `${ip}/32`));
    const s = await waitFor('/status Established', async () => {
      const x = await session();
      return x?.speaker?.state === 'Established' ? x : undefined;
    }, 10000);
    assert.equal(s.error, null);
  });

  it('a wrong password in the Secret: the session goes down and stays down', async (t) => {
    if (!need(t) || !frr || !lab) return;
    const ip = await serviceIP();
    writeManifest(manifests, 'secret.yaml', secretYaml('data', 'not-the-password'));
    await waitFor('FRR session down', async () => ((await dutState()) !== 'established' ? true : undefined), 15000);
    await waitFor('route gone at FRR', async () => (!(await routePresent(ip)) ? true : undefined), 15000);
    // several connect attempts (connectTime 1s) later, still not Established anywhere
    const attempts = (await session())?.speaker?.counters?.connectAttempts ?? 0;
    await waitFor('three more connect attempts', async () => (((await session())?.speaker?.counters?.connectAttempts ?? 0) >= attempts + 3 ? true : undefined), 30000);
    assert.notEqual(await dutState(), 'established');
    assert.equal(await routePresent(ip), false);
    const s = await session();
    assert.notEqual(s?.speaker?.state, 'Established');
    assert.equal(s?.error, null, 'the Secret is usable; it is the router that refuses the key');
  });

  it('the right password again (stringData): Established again', async (t) => {
    if (!need(t) || !frr || !lab) return;
    writeManifest(manifests, 'secret.yaml', secretYaml('stringData', PASSWORD));
    await frr.waitEstablished([lab.addr.dut4[0] ?? ''], 30000);
    const ip = await serviceIP();
    await frr.waitRoutes(`${ip}/32 at FRR again`, (all) => all.some((r) => r.peer === lab?.addr.dut4[0] && r.prefix === `${ip}/32`));
  });
});
