// Credentials against the test API server, which checks the bearer token of every request: a
// kubeconfig token (read by src/kube/kubeconfig.ts) and an exec credential plugin (a real
// executable, run by @kubernetes/client-node, which is loaded only for such kubeconfigs). Both
// keep one connection alive across requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeApiError, KubeClient, R } from '../../../src/kube/client.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-creds-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (server: string, user: string): string => `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: { cluster: k, user: u }
clusters:
- name: k
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
users:
- name: u
  user:
${user}
`;

test('a kubeconfig token and an exec plugin both authenticate, over one kept-alive connection', async () => {
  const seen: (string | undefined)[] = [];
  const server = await FakeApiServer.start({
    authorize: (r) => {
      seen.push(r.token);
      return r.token === 'good-token' || r.token === 'exec-token' ? undefined : 401;
    },
  });
  try {
    const plain = join(dir, 'token.yaml');
    writeFileSync(plain, config(server.url, '    token: good-token'));
    const c1 = KubeClient.fromOptions({ kubeconfig: plain });
    const n0 = server.connectionsAccepted;
    for (let i = 0; i < 5; i++) assert.equal((await c1.get(R.namespaces, undefined, 'default'))?.metadata.name, 'default');
    assert.equal(server.connectionsAccepted - n0, 1, 'five requests, one connection');

    const plugin = join(dir, 'cred-plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token"}}\'\n');
    chmodSync(plugin, 0o755);
    const exec = join(dir, 'exec.yaml');
    writeFileSync(exec, config(server.url, `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never`));
    const c2 = KubeClient.fromOptions({ kubeconfig: exec });
    const n1 = server.connectionsAccepted;
    for (let i = 0; i < 3; i++) assert.equal((await c2.get(R.namespaces, undefined, 'default'))?.metadata.name, 'default');
    assert.ok(seen.includes('exec-token'), 'the plugin\'s token was sent');
    assert.equal(server.connectionsAccepted - n1, 1, 'three requests, one connection');

    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(wrong, config(server.url, '    token: bad'));
    await assert.rejects(KubeClient.fromOptions({ kubeconfig: wrong }).get(R.namespaces, undefined, 'default'), (e) => e instanceof KubeApiError && e.code === 401);
  } finally {
    await server.close();
  }
});
