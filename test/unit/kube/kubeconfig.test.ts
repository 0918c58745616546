// Reading kubeconfig files (src/kube/kubeconfig.ts): tokens, token files re-read every minute,
// CA / client certificates inline or as files relative to the kubeconfig, kubectl's merge of
// several $KUBECONFIG files, precise errors, and the hand-over to @kubernetes/client-node for
// exec plugins, auth providers and proxies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadCredentials } from '../../../src/kube/kubeconfig.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const kubeconfig = (cluster: string, user: string, current = 'c'): string => `apiVersion: v1
kind: Config
current-context: ${current}
contexts:
- name: c
  context: { cluster: k, user: u }
clusters:
- name: k
  cluster:
${cluster}
users:
- name: u
  user:
${user}
`;

test('token and inline CA: bearer header, TLS options, trailing slash dropped', async () => {
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const f = write('token.yaml', kubeconfig(`    server: https://api.example:6443/\n    certificate-authority-data: ${ca.toString('base64')}\n    tls-server-name: kubernetes`, '    token: abc'));
  const c = loadCredentials({ kubeconfig: f });
  assert.equal(c.server, 'https://api.example:6443');
  assert.equal(c.source, `kubeconfig ${f}`);
  const r = await c.forRequest();
  assert.deepEqual(r.headers, { authorization: 'Bearer abc' });
  assert.deepEqual(r.tls?.ca, ca);
  assert.equal(r.tls?.servername, 'kubernetes');
  assert.equal(r.tls?.rejectUnauthorized, undefined, 'verification stays on unless insecure-skip-tls-verify');
  assert.equal((await c.forRequest()).tls, r.tls, 'the same TLS options every time (one kept-alive agent)');
});

test('client certificate and key files relative to the kubeconfig; basic auth; insecure', async () => {
  mkdirSync(join(dir, 'pki'), { recursive: true });
  writeFileSync(join(dir, 'pki', 'c.crt'), 'CERT');
  writeFileSync(join(dir, 'pki', 'c.key'), 'KEY');
  const f = write('certs.yaml', kubeconfig('    server: https://10.0.0.1:6443\n    insecure-skip-tls-verify: true', '    client-certificate: pki/c.crt\n    client-key: pki/c.key\n    username: admin\n    password: pw'));
  const r = await loadCredentials({ kubeconfig: f }).forRequest();
  assert.equal(r.tls?.cert?.toString(), 'CERT');
  assert.equal(r.tls?.key?.toString(), 'KEY');
  assert.equal(r.tls?.rejectUnauthorized, false);
  assert.equal(r.auth, 'admin:pw');
  assert.deepEqual(r.headers, {});
});

test('a token file is re-read once a minute (projected service-account tokens rotate)', async () => {
  const tokenPath = write('sa-token', 'first\n');
  const f = write('tokenfile.yaml', kubeconfig('    server: https://k:6443', `    tokenFile: ${tokenPath}`));
  let now = 1_000_000;
  const c = loadCredentials({ kubeconfig: f }, () => now);
  assert.equal((await c.forRequest()).headers['authorization'], 'Bearer first');
  writeFileSync(tokenPath, 'second\n');
  now += 30_000;
  assert.equal((await c.forRequest()).headers['authorization'], 'Bearer first');
  now += 31_000;
  assert.equal((await c.forRequest()).headers['authorization'], 'Bearer second');
});

test('several $KUBECONFIG files merge like kubectl: the first current-context and entry win', async () => {
  const a = write('a.yaml', 'apiVersion: v1\nkind: Config\ncurrent-context: c\nusers:\n- name: u\n  user: { token: from-a }\n');
  const b = write('b.yaml', kubeconfig('    server: https://b:6443', '    token: from-b', 'other'));
  const saved = { k: process.env['KUBECONFIG'], h: process.env['KUBERNETES_SERVICE_HOST'] };
  try {
    process.env['KUBECONFIG'] = [a, join(dir, 'missing.yaml'), b].join(delimiter);
    delete process.env['KUBERNETES_SERVICE_HOST'];
    const c = loadCredentials();
    assert.equal(c.server, 'https://b:6443');
    assert.deepEqual((await c.forRequest()).headers, { authorization: 'Bearer from-a' });
  } finally {
    for (const [k, v] of [['KUBECONFIG', saved.k], ['KUBERNETES_SERVICE_HOST', saved.h]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('precise errors: missing file, no current-context, undefined context, plain HTTP without insecure', () => {
  assert.throws(() => loadCredentials({ kubeconfig: join(dir, 'nope.yaml') }), /cannot load kubeconfig .*nope\.yaml/);
  const noCtx = write('noctx.yaml', 'apiVersion: v1\nkind: Config\nclusters: []\n');
  assert.throws(() => loadCredentials({ kubeconfig: noCtx }), /no current-context/);
  const bad = write('badctx.yaml', kubeconfig('    server: https://k', '    token: t', 'elsewhere'));
  assert.throws(() => loadCredentials({ kubeconfig: bad }), /current-context "elsewhere" is not defined/);
  const http = write('http.yaml', kubeconfig('    server: http://127.0.0.1:8080', '    token: t'));
  assert.throws(() => loadCredentials({ kubeconfig: http }), /HTTP protocol is not allowed/);
});

test('exec plugins, auth providers and proxies are handed to @kubernetes/client-node', () => {
  const exec = write('exec.yaml', kubeconfig('    server: https://k:6443', '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/true'));
  assert.equal(loadCredentials({ kubeconfig: exec }).source, 'client-node');
  const proxy = write('proxy.yaml', kubeconfig('    server: https://k:6443\n    proxy-url: http://proxy:3128', '    token: t'));
  const p = loadCredentials({ kubeconfig: proxy });
  assert.equal(p.source, 'client-node');
  assert.equal(p.server, 'https://k:6443');
});
