// The validating webhook served by the controller: AdmissionReview over HTTPS, judged with the
// `validate` rules against the configuration the controller sees; certificate rotation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import { Controller } from '../../../src/kube/controller.ts';
import { WebhookServer } from '../../../src/kube/webhook.ts';
import type { AdmissionResponse } from '../../../src/kube/webhook.ts';
import { requirePrereqs } from '../lib/prereq.ts';
import { run } from '../lib/proc.ts';

const NS = 'metallb-system';
let server: FakeApiServer;
let client: KubeClient;
let controller: Controller;
let dir: string;

function makeCert(cn: string): void {
  const r = run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-webhook-test-'));
  server = await FakeApiServer.start();
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.ipaddresspools, { metadata: { name: 'a', namespace: NS }, spec: { addresses: ['10.0.0.0/24'] } });
  controller = new Controller({ client, namespace: NS, identity: 'w', logger: pino({ level: 'silent' }), leaderElection: false });
  await controller.start();
});

after(async () => {
  await controller.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function post(url: string, ca: Buffer, body: unknown): Promise<{ response: AdmissionResponse; kind: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = https.request(`${url}/validate-metallb-io-ipaddresspools`, { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response: AdmissionResponse; kind: string }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const reviewOf = (uid: string, name: string, addresses: unknown[]): unknown => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' },
    operation: 'CREATE',
    name,
    namespace: NS,
    object: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS }, spec: { addresses } },
  },
});

test('denies with the validate message, allows valid objects, survives certificate rotation', async (t) => {
  if (!requirePrereqs(t, ['openssl'], false)) return;
  makeCert('first');
  const wh = new WebhookServer({ host: '127.0.0.1', port: 0, certDir: dir, logger: pino({ level: 'silent' }), decide: (r) => controller.admission(r) });
  await wh.start();
  try {
    const ca1 = readFileSync(join(dir, 'tls.crt'));
    const ok = await post(wh.url, ca1, reviewOf('u1', 'b', ['10.1.0.0/24']));
    assert.equal(ok.kind, 'AdmissionReview');
    assert.equal(ok.response.uid, 'u1');
    assert.equal(ok.response.allowed, true);
    // validate's warnings about the object come back as admission warnings (kubectl prints them)
    assert.deepEqual(ok.response.warnings, ['IPAddressPool/b: metadata.name: pool is not announced by any BGPAdvertisement or L2Advertisement']);
    const overlap = await post(wh.url, ca1, reviewOf('u2', 'c', ['10.0.0.128/25']));
    assert.equal(overlap.response.allowed, false);
    assert.equal(overlap.response.status?.code, 422);
    assert.match(overlap.response.status?.message ?? '', /^IPAddressPool\/c: spec\.addresses\[0\]: .*overlaps .*IPAddressPool\/a/);
    const badIP = await post(wh.url, ca1, reviewOf('u3', 'd', ['10.1']));
    assert.equal(badIP.response.allowed, false);
    assert.match(badIP.response.status?.message ?? '', /^IPAddressPool\/d: spec\.addresses\[0\]: /);

    // rotation: new files → reload → the new CA works, without a restart
    makeCert('second');
    assert.equal(wh.reload(), true);
    const ca2 = readFileSync(join(dir, 'tls.crt'));
    const again = await post(wh.url, ca2, reviewOf('u4', 'e', ['10.2.0.0/24']));
    assert.equal(again.response.allowed, true);
    await assert.rejects(post(wh.url, ca1, reviewOf('u5', 'f', ['10.3.0.0/24'])), 'the old certificate is no longer served');
  } finally {
    await wh.stop();
  }
});
