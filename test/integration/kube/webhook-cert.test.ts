// The webhook without cert-manager (issue 15 item 15): the real controller process against the
// test API server creates the certificate Secret, patches the caBundle of the shipped
// ValidatingWebhookConfiguration, and serves a certificate that a TLS client trusting only that
// caBundle accepts for the Service's DNS name; a Secret holding a certificate close to expiry is
// replaced and a corrupt one regenerated (with a Warning event), each served without a restart.
// With cert-manager's inject-ca-from annotation the controller only serves what cert-manager
// writes, and /readyz says not ready until it can.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import type { ApiServerOptions } from '../../support/apiserver/server.ts';
import { waitFor } from '../lib/proc.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { VALIDATING_WEBHOOKS } from '../../../src/kube/webhookcert/rotator.ts';
import { createCA, createServing } from '../../../src/kube/webhookcert/x509.ts';
import { validity } from '../../../src/kube/webhookcert/policy.ts';
import type { AdmissionResponse } from '../../../src/kube/webhook.ts';
import { webhook, webhookCertManager } from '../../../scripts/gen-manifests.ts';

const NS = 'metallb-system';
const SECRET = 'metallb-ts-webhook-cert';
const DNS = `metallb-ts-webhook.${NS}.svc`;
const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'metallb-ts.js');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-webhook-cert-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

type SecretObj = KubeObject & { type?: string; data?: Record<string, string> };
type Vwc = KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] };

const until = <T>(fn: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> => waitFor(what, fn, 30000, 50);

const text = (s: SecretObj | undefined, k: string): string => Buffer.from(s?.data?.[k] ?? '', 'base64').toString('utf8');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

async function setup(objects: Record<string, unknown>[], opts: ApiServerOptions = {}): Promise<{ server: FakeApiServer; client: KubeClient; kubeconfig: string }> {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 500, ...opts });
  const kubeconfig = server.writeKubeconfig(join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`));
  const client = KubeClient.fromOptions({ kubeconfig });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.ipaddresspools, { metadata: { name: 'a', namespace: NS }, spec: { addresses: ['10.0.0.0/24'] } });
  // the shipped webhook configuration, as config/manifests/metallb-ts.yaml has it
  for (const o of objects.filter((x) => x['kind'] === 'ValidatingWebhookConfiguration')) await client.create(VALIDATING_WEBHOOKS, o as unknown as KubeObject);
  return { server, client, kubeconfig };
}

interface Proc {
  p: ChildProcess;
  log: () => string;
  webhookUrl: () => Promise<string>;
  httpUrl: () => Promise<string>;
  stop: () => Promise<void>;
}

function startController(kubeconfig: string, extra: string[] = [], identity = 'ctl-0'): Proc {
  const p = spawn(
    process.execPath,
    [BIN, 'controller', '--kubeconfig', kubeconfig, '--identity', identity, '--lease-duration', '2', '--renew-deadline', '1.5', '--retry-period', '0.2', '--http-listen', '127.0.0.1:0', '--webhook-listen', '127.0.0.1:0', ...extra],
    { env: { ...process.env, METALLB_TS_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  p.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = (msg: string): Promise<string> =>
    until(() => {
      for (const line of log.split('\n')) if (line.includes(msg)) return /"url":"([^"]+)"/.exec(line)?.[1];
      return undefined;
    }, msg);
  return {
    p,
    log: () => log,
    webhookUrl: () => url('validating webhook listening'),
    httpUrl: () => url('health and metrics endpoints listening'),
    stop: async () => {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => p.once('exit', r));
      }
    },
  };
}

/** Runs `body` with controller processes (one per identity); prints their logs when it fails; stops everything. */
async function withControllers(
  objects: Record<string, unknown>[],
  identities: string[],
  body: (env: { server: FakeApiServer; client: KubeClient; procs: Proc[] }) => Promise<void>,
  opts: ApiServerOptions = {},
): Promise<void> {
  const { server, client, kubeconfig } = await setup(objects, opts);
  const procs = identities.map((id) => startController(kubeconfig, [], id));
  try {
    await body({ server, client, procs });
  } catch (e) {
    for (const c of procs) process.stderr.write(c.log());
    throw e;
  } finally {
    for (const c of procs) await c.stop();
    await server.close();
  }
}

interface Answer {
  response: AdmissionResponse;
  served: string;
}

/** An AdmissionReview over TLS, trusting only `caPem` and checking the Service's DNS name (the API server's view). */
function review(url: string, caPem: string, name: string, addresses: string[]): Promise<Answer> {
  const u = new URL(url);
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `u-${name}`,
      kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' },
      operation: 'CREATE',
      name,
      namespace: NS,
      object: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS }, spec: { addresses } },
    },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/validate-metallb-io-ipaddresspools',
        method: 'POST',
        ca: caPem,
        servername: DNS,
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(DNS, cert),
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const served = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ response: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response: AdmissionResponse }).response, served }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;

test('two replicas: only the leader writes the Secret and the caBundle; both serve the certificate and are ready', async (t) => {
  const started = Date.now();
  await withControllers(webhook(NS), ['ctl-a', 'ctl-b'], async ({ server, client, procs }) => {
    const secret = await until(async () => {
      const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
      return s && text(s, 'tls.crt') !== '' ? s : undefined;
    }, 'the webhook certificate Secret');
    const ca = text(secret, 'ca.crt');
    const served: string[] = [];
    for (const c of procs) {
      const a = await until(async () => review(await c.webhookUrl(), ca, 'b', ['10.1.0.0/24']), 'a replica serving the certificate');
      served.push(a.served);
      await until(async () => ((await fetch(`${await c.httpUrl()}/readyz`)).status === 200 ? true : undefined), 'ready');
    }
    t.diagnostic(`first start to both replicas serving a verified certificate: ${Date.now() - started} ms (two processes from source, loaded machine)`);
    assert.deepEqual(served, [fp(text(secret, 'tls.crt')), fp(text(secret, 'tls.crt'))], 'both replicas serve the Secret\'s certificate');
    await until(async () => ((await client.get<Vwc>(VALIDATING_WEBHOOKS, undefined, 'metallb-ts-webhook'))?.webhooks.every((w) => w.clientConfig.caBundle === b64(ca)) ? true : undefined), 'caBundle');
    // one writer: the memberlist Secret and the webhook Secret created once each, one caBundle patch, no Secret update
    const secretWrites = server.countByVerb((r) => r.path.startsWith(`/api/v1/namespaces/${NS}/secrets`) && r.verb !== 'get' && r.verb !== 'list' && r.verb !== 'watch');
    assert.deepEqual(secretWrites, { create: 2 });
    assert.deepEqual(server.countByVerb((r) => r.path.includes('/validatingwebhookconfigurations/') && r.verb === 'patch'), { patch: 1 });
  });
});

test('without cert-manager: Secret created, caBundle patched, TLS verified for the Service name; near-expiry and corrupt Secrets replaced without a restart', async () => {
  await withControllers(webhook(NS), ['ctl-0'], async ({ client, procs: [c] }) => {
    assert.ok(c);
    const secret = await until(async () => {
      const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
      return s && text(s, 'tls.crt') !== '' ? s : undefined;
    }, 'the webhook certificate Secret');
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const ca = text(secret, 'ca.crt');
    const cert = new X509Certificate(text(secret, 'tls.crt'));
    assert.equal(cert.checkHost(DNS), DNS);
    assert.equal(cert.checkHost(`${DNS}.cluster.local`), `${DNS}.cluster.local`);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 360 && days <= 366, `serving certificate for about a year, got ${days} days`);
    assert.ok((Date.parse(new X509Certificate(ca).validTo) - Date.now()) / 86_400_000 > 3600, 'CA for about 10 years');
    // every webhook of the configuration carries the CA
    const vwc = await until(async () => {
      const v = await client.get<Vwc>(VALIDATING_WEBHOOKS, undefined, 'metallb-ts-webhook');
      return v?.webhooks.every((w) => w.clientConfig.caBundle === b64(ca)) ? v : undefined;
    }, 'caBundle in every webhook');
    assert.equal(vwc.webhooks.length, 6);
    const caBundle = Buffer.from(vwc.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');

    // the API server's view: trust the caBundle only, expect the Service's name
    const url = await c.webhookUrl();
    const ok = await review(url, caBundle, 'b', ['10.1.0.0/24']);
    assert.equal(ok.response.allowed, true);
    assert.equal(ok.served, cert.fingerprint256);
    const denied = await review(url, caBundle, 'c', ['10.0.0.128/25']);
    assert.equal(denied.response.allowed, false);
    assert.match(denied.response.status?.message ?? '', /^IPAddressPool\/c: spec\.addresses\[0\]: .*overlaps .*IPAddressPool\/a/);
    const http = await c.httpUrl();
    assert.equal((await fetch(`${http}/readyz`)).status, 200);
    const status = (await (await fetch(`${http}/status`)).json()) as { webhook: { serving: boolean; fingerprint: string; notAfter: string } };
    assert.equal(status.webhook.serving, true);
    assert.equal(status.webhook.fingerprint, cert.fingerprint256);
    assert.equal(status.webhook.notAfter, new Date(cert.validTo).toISOString());

    // a serving certificate close to expiry (1 hour left, renewal 90 days before): replaced
    const nearExpiry = await createServing({ cert: ca, key: text(secret, 'ca.key') }, { dnsNames: [DNS], organization: 'test', ...validity(Date.now(), 3_600_000) });
    const current = (await client.get<SecretObj>(R.secrets, NS, SECRET)) as SecretObj;
    await client.update(R.secrets, { ...current, data: { ...current.data, 'tls.crt': b64(nearExpiry.cert), 'tls.key': b64(nearExpiry.key) } });
    const renewed = await until(async () => {
      const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
      const t = text(s, 'tls.crt');
      return t !== '' && fp(t) !== cert.fingerprint256 && fp(t) !== fp(nearExpiry.cert) ? s : undefined;
    }, 'a renewed serving certificate');
    assert.equal(text(renewed, 'ca.crt'), ca, 'the CA is kept when only the serving certificate expires');
    assert.ok((Date.parse(new X509Certificate(text(renewed, 'tls.crt')).validTo) - Date.now()) / 86_400_000 > 360);
    const afterRenewal = await until(async () => {
      const a = await review(url, caBundle, 'd', ['10.2.0.0/24']);
      return a.served === fp(text(renewed, 'tls.crt')) ? a : undefined;
    }, 'the renewed certificate served');
    assert.equal(afterRenewal.response.allowed, true);
    assert.equal(c.p.exitCode, null, 'same process: no restart');

    // a corrupt Secret: regenerated with a new CA, the caBundle follows, a Warning event says why
    await client.update(R.secrets, { ...renewed, data: { ...renewed.data, 'ca.crt': b64('garbage'), 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') } });
    const regenerated = await until(async () => {
      const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
      const newCa = text(s, 'ca.crt');
      return newCa.startsWith('-----BEGIN CERTIFICATE-----') && newCa !== ca ? s : undefined;
    }, 'a regenerated Secret');
    const newCa = text(regenerated, 'ca.crt');
    await until(async () => ((await client.get<Vwc>(VALIDATING_WEBHOOKS, undefined, 'metallb-ts-webhook'))?.webhooks.every((w) => w.clientConfig.caBundle === b64(newCa)) ? true : undefined), 'the new caBundle');
    const afterRegen = await until(() => review(url, newCa, 'e', ['10.3.0.0/24']), 'the regenerated certificate served');
    assert.equal(afterRegen.served, fp(text(regenerated, 'tls.crt')));
    await assert.rejects(review(url, ca, 'f', ['10.4.0.0/24']), 'the old CA no longer verifies the served certificate');
    const events = await until(async () => {
      const ev = (await client.list(R.events, { namespace: NS })).items.filter((e) => e['reason'] === 'WebhookCertificateInvalid');
      return ev.length > 0 ? ev : undefined;
    }, 'a WebhookCertificateInvalid event');
    assert.equal((events[0]?.['involvedObject'] as { kind: string; name: string }).name, SECRET);
    assert.match(String(events[0]?.['message']), /ca\.crt is not a certificate/);
    assert.match(c.log(), /the certificate Secret is unusable; wrote a new CA and serving certificate/);

    // the Secret deleted: created again; the configuration re-created: its caBundle written again
    await client.delete(R.secrets, NS, SECRET);
    await until(async () => (text(await client.get<SecretObj>(R.secrets, NS, SECRET), 'tls.crt') !== '' ? true : undefined), 'the Secret re-created');
    await client.delete(VALIDATING_WEBHOOKS, undefined, 'metallb-ts-webhook');
    await client.create(VALIDATING_WEBHOOKS, webhook(NS)[1] as unknown as KubeObject);
    await until(async () => {
      const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
      const v = await client.get<Vwc>(VALIDATING_WEBHOOKS, undefined, 'metallb-ts-webhook');
      return v?.webhooks.every((w) => w.clientConfig.caBundle === s?.data?.['ca.crt']) ? true : undefined;
    }, 'the caBundle of the re-created configuration');
    assert.equal(c.p.exitCode, null);
  });
});

test('with cert-manager (inject-ca-from): the controller only serves the Secret cert-manager writes, and is not ready before', async () => {
  await withControllers(webhookCertManager(NS), ['ctl-0'], async ({ client, procs: [c] }) => {
    assert.ok(c);
    const http = await c.httpUrl();
    await until(() => (c.log().includes('cert-manager keeps the certificate Secret') ? true : undefined), 'the controller noticing cert-manager');
    assert.equal(await client.get(R.secrets, NS, SECRET), undefined, 'no Secret written by the controller');
    assert.equal((await fetch(`${http}/readyz`)).status, 503, 'not ready without a certificate');
    assert.deepEqual(((await (await fetch(`${http}/status`)).json()) as { webhook: unknown }).webhook, { serving: false });
    // what cert-manager writes: tls.crt, tls.key, ca.crt
    const ca = await createCA({ commonName: 'cm-ca', organization: 'cert-manager', ...validity(Date.now(), 86_400_000 * 90) });
    const serving = await createServing(ca, { dnsNames: [DNS, `${DNS}.cluster.local`], organization: 'cert-manager', ...validity(Date.now(), 86_400_000 * 90) });
    const written = await client.create<SecretObj>(R.secrets, {
      metadata: { name: SECRET, namespace: NS },
      type: 'kubernetes.io/tls',
      data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(serving.cert), 'tls.key': b64(serving.key) },
    });
    await until(async () => ((await fetch(`${http}/readyz`)).status === 200 ? true : undefined), 'ready once the certificate is served');
    const a = await review(await c.webhookUrl(), ca.cert, 'b', ['10.1.0.0/24']);
    assert.equal(a.served, fp(serving.cert));
    assert.equal(a.response.allowed, true);
    const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
    assert.equal(s?.metadata.resourceVersion, written.metadata.resourceVersion, 'the controller did not touch the Secret');
  });
});

test('without RBAC for the webhook configuration the certificate is still written and served (the caBundle is retried)', async () => {
  let denied = 0;
  const authorize: ApiServerOptions['authorize'] = (r) => {
    // the test itself only creates the configuration; the controller reads, watches and patches it
    if (!r.path.includes('/validatingwebhookconfigurations') || r.verb === 'create') return undefined;
    denied++;
    return 403;
  };
  await withControllers(
    webhook(NS),
    ['ctl-0'],
    async ({ client, procs: [c] }) => {
      assert.ok(c);
      const secret = await until(async () => {
        const s = await client.get<SecretObj>(R.secrets, NS, SECRET);
        return s && text(s, 'tls.crt') !== '' ? s : undefined;
      }, 'the webhook certificate Secret');
      const a = await until(async () => review(await c.webhookUrl(), text(secret, 'ca.crt'), 'b', ['10.1.0.0/24']), 'the certificate served');
      assert.equal(a.served, fp(text(secret, 'tls.crt')));
      await until(() => (c.log().includes('validatingwebhookconfigurations') && c.log().includes('403') ? true : undefined), 'the 403 logged');
      assert.ok(denied > 0);
    },
    { authorize },
  );
});
