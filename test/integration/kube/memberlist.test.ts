// The controller's leader creates the speakers' memberlist Secret (metallb-memberlist, key
// secretkey, type Opaque, random key) when it is absent, never overwrites an existing one,
// recreates it when deleted, and a non-leader never writes it. Against the test API server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Controller } from '../../../src/kube/controller.ts';
import { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME, memberlistSecret } from '../../../src/kube/memberlist.ts';
import { secretValue } from '../../../src/model/secret.ts';
import type { Secret } from '../../../src/model/objects.ts';

const NS = 'metallb-system';
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-memberlist-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

type SecretObj = Secret & KubeObject;

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function setup(): Promise<{ server: FakeApiServer; client: KubeClient }> {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 500 });
  const kubeconfig = server.writeKubeconfig(join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`));
  const client = KubeClient.fromOptions({ kubeconfig });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.ipaddresspools, { metadata: { name: 'pool-a', namespace: NS }, spec: { addresses: ['192.0.2.10-192.0.2.13'] } });
  return { server, client };
}

function controller(client: KubeClient, identity: string, o: { leaderElection?: boolean; create?: boolean; name?: string } = {}): Controller {
  return new Controller({
    client,
    namespace: NS,
    identity,
    logger: pino({ level: 'silent' }),
    leaderElection: o.leaderElection ?? false,
    leaseDurationSeconds: 1,
    renewDeadlineSeconds: 0.8,
    retryPeriodSeconds: 0.1,
    backoff: { initialMs: 20, maxMs: 200 },
    ...(o.create !== undefined ? { createMemberlistSecret: o.create } : {}),
    ...(o.name !== undefined ? { memberlistSecretName: o.name } : {}),
  });
}

const getSecret = (client: KubeClient, name = MEMBERLIST_SECRET_NAME): Promise<SecretObj | undefined> => client.get<SecretObj>(R.secrets, NS, name);

/** The key the speakers will use (what KubeSpeaker reads: data.secretkey, base64-decoded). */
function speakerKey(s: Secret): string {
  const v = secretValue(s, MEMBERLIST_SECRET_KEY);
  assert.ok('value' in v, JSON.stringify(v));
  return v.value;
}

test('memberlistSecret(): Opaque, data.secretkey = base64 of the base64 text of the random bytes', () => {
  const random = Buffer.alloc(32, 0xab);
  const s = memberlistSecret(NS, 'x', random);
  assert.equal(s.type, 'Opaque');
  assert.equal(s.metadata.namespace, NS);
  assert.equal(s.metadata.name, 'x');
  assert.equal(speakerKey(s), random.toString('base64'));
  assert.deepEqual(Buffer.from(speakerKey(s), 'base64'), random);
  assert.throws(() => memberlistSecret(NS, 'x', Buffer.alloc(16)), /at least 32 random bytes/);
});

test('the leader creates metallb-memberlist when absent, with a random key of 32 bytes', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    assert.equal(await getSecret(client), undefined);
    await c.start();
    const s = await until(() => getSecret(client), 'memberlist Secret created');
    assert.equal(s.type, 'Opaque');
    assert.equal(s.metadata.namespace, NS);
    const key = speakerKey(s);
    assert.equal(key.length, 44, 'base64 text of 32 bytes');
    assert.equal(Buffer.from(key, 'base64').length, 32);
    assert.ok(Buffer.byteLength(key, 'utf8') >= 16, 'long enough for the Layer 2 member table');
    // a second controller on another cluster gets a different key (random, not a constant)
    const other = await setup();
    const c2 = controller(other.client, 'c2');
    try {
      await c2.start();
      const s2 = await until(() => getSecret(other.client), 'second cluster Secret');
      assert.notEqual(speakerKey(s2), key);
    } finally {
      await c2.stop();
      await other.server.close();
    }
  } finally {
    await c.stop();
    await server.close();
  }
});

test('an existing memberlist Secret is never overwritten', async () => {
  const { server, client } = await setup();
  await client.create(R.secrets, {
    metadata: { name: MEMBERLIST_SECRET_NAME, namespace: NS },
    type: 'Opaque',
    data: { [MEMBERLIST_SECRET_KEY]: Buffer.from('operator-chosen-key-0123456789').toString('base64') },
  });
  const before = await getSecret(client);
  const c = controller(client, 'c1');
  try {
    await c.start();
    await until(() => (c.isLeader && c.ready ? true : undefined), 'leader and ready');
    await new Promise((r) => setTimeout(r, 300));
    const after = await getSecret(client);
    assert.ok(before && after);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'not written');
    assert.equal(speakerKey(after), 'operator-chosen-key-0123456789');
  } finally {
    await c.stop();
    await server.close();
  }
});

test('deleted while running: the leader creates a new one', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    await c.start();
    const first = await until(() => getSecret(client), 'created');
    await client.delete(R.secrets, NS, MEMBERLIST_SECRET_NAME);
    const second = await until(async () => {
      const s = await getSecret(client);
      return s && s.metadata.uid !== first.metadata.uid ? s : undefined;
    }, 'recreated');
    assert.notEqual(speakerKey(second), speakerKey(first));
  } finally {
    await c.stop();
    await server.close();
  }
});

test('createMemberlistSecret: false leaves it alone; memberlistSecretName picks the name', async () => {
  const { server, client } = await setup();
  const off = controller(client, 'off', { create: false });
  try {
    await off.start();
    await until(() => (off.isLeader && off.ready ? true : undefined), 'leader and ready');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await getSecret(client), undefined);
  } finally {
    await off.stop();
  }
  const named = controller(client, 'named', { name: 'my-memberlist' });
  try {
    await named.start();
    await until(() => getSecret(client, 'my-memberlist'), 'custom-named Secret');
    assert.equal(await getSecret(client), undefined);
  } finally {
    await named.stop();
    await server.close();
  }
});

test('with leader election only the leader writes it, and a new leader keeps the same key', async () => {
  const { server, client } = await setup();
  const c1 = controller(client, 'c1', { leaderElection: true });
  const c2 = controller(client, 'c2', { leaderElection: true });
  try {
    await c1.start();
    await until(() => (c1.isLeader ? true : undefined), 'c1 leads');
    const s = await until(() => getSecret(client), 'created by c1');
    await c2.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c2.isLeader, false);
    await c1.stop(); // releases the Lease
    await until(() => (c2.isLeader ? true : undefined), 'c2 takes over', 15000);
    await new Promise((r) => setTimeout(r, 300));
    const now = await getSecret(client);
    assert.equal(now?.metadata.resourceVersion, s.metadata.resourceVersion, 'the new leader did not touch it');
    assert.equal(speakerKey(now as Secret), speakerKey(s));
  } finally {
    await c1.stop();
    await c2.stop();
    await server.close();
  }
});
