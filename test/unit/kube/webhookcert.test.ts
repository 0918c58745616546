// The webhook certificate's pure parts: the rotation policy with an injected clock, the caBundle
// JSON patch, and x509.inspect on certificates it made itself (mismatched keys, foreign CA,
// garbage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { caBundlePatch, decide, nextCheckDelay, serviceDnsNames, validity } from '../../../src/kube/webhookcert/policy.ts';
import type { BundleFacts } from '../../../src/kube/webhookcert/policy.ts';
import { checkServingPair, createCA, createServing, inspect } from '../../../src/kube/webhookcert/x509.ts';
import { runCli } from '../helpers/cli.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2030, 0, 1);
const NAMES = serviceDnsNames('metallb-ts-webhook', 'metallb-system');
const POLICY = { dnsNames: NAMES, renewBeforeMs: 90 * DAY };

const facts = (o: Partial<BundleFacts> = {}): BundleFacts => ({
  caIsCA: true,
  caNotBefore: T0 - DAY,
  caNotAfter: T0 + 3650 * DAY,
  servingNotBefore: T0 - DAY,
  servingNotAfter: T0 + 365 * DAY,
  servingSignedByCA: true,
  servingDnsNames: [...NAMES],
  ...o,
});

test('decide: keep a fresh bundle and look again 90 days before the earlier expiry', () => {
  assert.deepEqual(decide({ kind: 'valid', facts: facts() }, T0, POLICY), { action: 'keep', nextCheckAt: T0 + 365 * DAY - 90 * DAY });
  // one day before the renewal point: still kept; at the point: renewed
  assert.equal(decide({ kind: 'valid', facts: facts() }, T0 + 274 * DAY, POLICY).action, 'keep');
  assert.deepEqual(decide({ kind: 'valid', facts: facts() }, T0 + 275 * DAY, POLICY), { action: 'serving', reason: `tls.crt expires at ${new Date(T0 + 365 * DAY).toISOString()}` });
});

test('decide: what renews only the serving certificate, what starts over with a new CA', () => {
  const d = (f: Partial<BundleFacts>): ReturnType<typeof decide> => decide({ kind: 'valid', facts: facts(f) }, T0, POLICY);
  assert.deepEqual(d({ servingSignedByCA: false }), { action: 'serving', reason: 'tls.crt is not signed by ca.crt' });
  assert.deepEqual(d({ servingDnsNames: ['other.metallb-system.svc'] }), { action: 'serving', reason: 'tls.crt lacks the DNS names metallb-ts-webhook.metallb-system.svc, metallb-ts-webhook.metallb-system.svc.cluster.local' });
  assert.equal(d({ servingNotBefore: T0 + DAY }).action, 'serving');
  assert.deepEqual(d({ caNotAfter: T0 + 30 * DAY }), { action: 'all', reason: `the CA expires at ${new Date(T0 + 30 * DAY).toISOString()}`, corrupt: false });
  assert.deepEqual(d({ caIsCA: false }), { action: 'all', reason: 'ca.crt is not a CA certificate', corrupt: true });
  assert.equal(d({ caNotBefore: T0 + DAY }).action, 'all');
  assert.deepEqual(decide({ kind: 'missing', problem: 'no Secret' }, T0, POLICY), { action: 'all', reason: 'no Secret', corrupt: false });
  assert.deepEqual(decide({ kind: 'invalid', problem: 'garbage' }, T0, POLICY), { action: 'all', reason: 'garbage', corrupt: true });
});

test('validity: backdated by at most 5 minutes, capped at the CA expiry; next check between 1 s and the cap', () => {
  assert.deepEqual(validity(T0, 365 * DAY), { notBefore: new Date(T0 - 300_000), notAfter: new Date(T0 + 365 * DAY) });
  assert.deepEqual(validity(T0, 10_000), { notBefore: new Date(T0 - 1000), notAfter: new Date(T0 + 10_000) });
  assert.equal(validity(T0, 365 * DAY, T0 + 100 * DAY).notAfter.getTime(), T0 + 100 * DAY);
  assert.equal(nextCheckDelay(T0, T0 - 5, 43_200_000), 1000);
  assert.equal(nextCheckDelay(T0, T0 + 100 * DAY, 43_200_000), 43_200_000);
  assert.equal(nextCheckDelay(T0, T0 + 60_000, 43_200_000), 60_000);
});

test('caBundlePatch: every webhook without the CA, guarded by resourceVersion; null when all carry it', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n';
  const want = Buffer.from(ca).toString('base64');
  const vwc = { metadata: { resourceVersion: '42' }, webhooks: [{ clientConfig: { caBundle: want } }, { clientConfig: {} }, { clientConfig: { caBundle: 'b2xk' } }] };
  assert.deepEqual(caBundlePatch(vwc, ca), [
    { op: 'test', path: '/metadata/resourceVersion', value: '42' },
    { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: want },
    { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: want },
  ]);
  assert.equal(caBundlePatch({ metadata: {}, webhooks: [{ clientConfig: { caBundle: want } }] }, ca), null);
});

test('x509: a CA and a serving certificate for the Service names; inspect reads them back; mismatches are found', async () => {
  const now = Date.now();
  const ca = await createCA({ commonName: 'ca', organization: 't', ...validity(now, 3650 * DAY) });
  const serving = await createServing(ca, { dnsNames: NAMES, organization: 't', ...validity(now, 365 * DAY) });
  const cert = new X509Certificate(serving.cert);
  assert.equal(cert.checkHost(NAMES[0] ?? ''), NAMES[0]);
  assert.equal(cert.checkIssued(new X509Certificate(ca.cert)), true);
  assert.equal(new X509Certificate(ca.cert).ca, true);
  assert.equal(cert.ca, false);
  assert.match(cert.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'extended key usage serverAuth');
  const i = inspect({ ca, serving });
  assert.equal(i.kind, 'valid');
  if (i.kind !== 'valid') return;
  assert.deepEqual(i.facts.servingDnsNames, NAMES);
  assert.equal(i.facts.servingSignedByCA, true);
  assert.ok(Math.abs(i.facts.servingNotAfter - (now + 365 * DAY)) < 2000);
  assert.equal(decide(i, now, POLICY).action, 'keep');
  assert.equal(checkServingPair(serving), null);

  const otherCA = await createCA({ commonName: 'other', organization: 't', ...validity(now, 3650 * DAY) });
  const foreign = inspect({ ca: otherCA, serving });
  assert.equal(foreign.kind === 'valid' && foreign.facts.servingSignedByCA, false, 'signed by another CA');
  assert.deepEqual(inspect({ ca, serving: { cert: serving.cert, key: ca.key } }), { kind: 'invalid', problem: 'tls.key does not belong to its certificate' });
  assert.match(checkServingPair({ cert: serving.cert, key: ca.key }) ?? '', /does not belong/);
  const garbage = inspect({ ca: { cert: 'garbage', key: ca.key }, serving });
  assert.equal(garbage.kind, 'invalid');
  assert.match(garbage.kind === 'invalid' ? garbage.problem : '', /^ca\.crt is not a certificate/);
  assert.match((() => { const r = inspect({ ca, serving: { cert: serving.cert, key: 'nope' } }); return r.kind === 'invalid' ? r.problem : ''; })(), /^tls\.key is not a private key/);
});

test('controller flags: certificate lifetimes are Go durations; renewal must come before expiry', async () => {
  const bad = async (...args: string[]): Promise<string> => {
    const r = await runCli('controller', ...args);
    assert.equal(r.code, 2, r.stderr);
    return r.stderr.split('\n')[0] ?? '';
  };
  assert.equal(await bad('--cert-validity', '1y'), 'metallb-ts controller: --cert-validity must be a positive duration such as 2160h, not "1y"');
  assert.equal(await bad('--cert-renew-before', '9000h'), 'metallb-ts controller: --cert-renew-before must be shorter than --cert-validity and --ca-validity (or every check would renew)');
  assert.equal(await bad('--ca-validity', '1000h'), 'metallb-ts controller: --cert-renew-before must be shorter than --cert-validity and --ca-validity (or every check would renew)');
  const help = await runCli('controller', '--help');
  for (const flag of ['--webhook-secret', '--cert-service-name', '--webhook-configuration', '--disable-cert-rotation', '--cert-validity', '--cert-renew-before', '--ca-validity']) assert.match(help.stdout, new RegExp(`^  ${flag} `, 'm'), flag);
});
