// `metallb-ts controller` against the test API server through the real client library:
// IP into status (via /status), annotation, events, ConfigurationState, pool status,
// clearing, freeing, invalid config, restart recovery, and two controller processes with one
// leader (kill -9 the leader → the other takes over after the lease expires).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Controller } from '../../../src/kube/controller.ts';

const NS = 'metallb-system';
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-controller-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Svc extends KubeObject {
  spec: Record<string, unknown>;
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last !== undefined && last !== false) return last;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function setup(): Promise<{ server: FakeApiServer; client: KubeClient; kubeconfig: string }> {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 500 });
  const kubeconfig = server.writeKubeconfig(join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`));
  const client = KubeClient.fromOptions({ kubeconfig });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.namespaces, { metadata: { name: 'web' } });
  await client.create(R.ipaddresspools, { metadata: { name: 'pool-a', namespace: NS }, spec: { addresses: ['192.0.2.10-192.0.2.13'] } });
  await client.create(R.l2advertisements, { metadata: { name: 'l2', namespace: NS }, spec: {} });
  return { server, client, kubeconfig };
}

function svc(name: string, extra: Record<string, unknown> = {}): Svc {
  return {
    metadata: { name, namespace: 'web' },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name }, ...extra },
  };
}

function controller(client: KubeClient, identity: string, leaderElection = false): Controller {
  return new Controller({
    client,
    namespace: NS,
    identity,
    logger: pino({ level: 'silent' }),
    leaderElection,
    leaseDurationSeconds: 1,
    renewDeadlineSeconds: 0.8,
    retryPeriodSeconds: 0.1,
    backoff: { initialMs: 20, maxMs: 200 },
  });
}

const ipOf = async (client: KubeClient, name: string): Promise<string | undefined> =>
  (await client.get<Svc>(R.services, 'web', name))?.status?.loadBalancer?.ingress?.[0]?.ip;

test('assigns an IP into status via /status, annotates the pool, records IPAllocated, publishes state', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    await c.start();
    await client.create(R.services, svc('web1'));
    const ip = await until(() => ipOf(client, 'web1'), 'web1 IP');
    assert.equal(ip, '192.0.2.10');
    const s = await client.get<Svc>(R.services, 'web', 'web1');
    assert.equal(s?.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], 'pool-a');
    const statusWrites = server.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/web/services/web1/status');
    assert.equal(statusWrites.length, 1);
    assert.equal(statusWrites[0]?.contentType, 'application/merge-patch+json');
    const ev = await until(async () => (await client.list(R.events, { namespace: 'web' })).items.find((e) => e['reason'] === 'IPAllocated'), 'event');
    assert.equal(ev['message'], 'Assigned IP ["192.0.2.10"]');
    assert.equal(ev['type'], 'Normal');
    assert.equal((ev['involvedObject'] as { name: string }).name, 'web1');
    const cs = await until(async () => (await client.get<KubeObject & { status?: { result?: string } }>(R.configurationstates, NS, 'controller'))?.status, 'ConfigurationState');
    assert.equal(cs.result, 'Valid');
    const pool = await until(async () => {
      const p = await client.get<KubeObject & { status?: { assignedIPv4?: number; availableIPv4?: number } }>(R.ipaddresspools, NS, 'pool-a');
      return p?.status?.assignedIPv4 === 1 ? p.status : undefined;
    }, 'pool status');
    assert.equal(pool.availableIPv4, 3);
    assert.equal(c.ready, true);
  } finally {
    await c.stop();
    await server.close();
  }
});

test('clears status when a Service stops being a LoadBalancer, frees on delete, reports failures', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    await c.start();
    for (const n of ['a', 'b', 'c', 'd']) await client.create(R.services, svc(n));
    await until(async () => ((await ipOf(client, 'd')) ? true : undefined), 'four IPs');
    await client.create(R.services, svc('e'));
    const fail = await until(async () => (await client.list(R.events, { namespace: 'web' })).items.find((e) => e['reason'] === 'AllocationFailed'), 'AllocationFailed');
    assert.equal(fail['type'], 'Warning');
    assert.match(String(fail['message']), /^Failed to allocate IP for "web\/e": /);
    assert.equal(await ipOf(client, 'e'), undefined);

    const bIP = await ipOf(client, 'b');
    await client.patch(R.services, 'web', 'b', { spec: { type: 'ClusterIP' } });
    await until(async () => ((await ipOf(client, 'b')) === undefined ? true : undefined), 'b cleared');
    const b = await client.get<Svc>(R.services, 'web', 'b');
    assert.equal(b?.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], undefined);
    // the freed address goes to the Service that was waiting for one
    assert.equal(await until(() => ipOf(client, 'e'), 'e gets b\'s IP'), bIP);

    const aIP = await ipOf(client, 'a');
    await client.delete(R.services, 'web', 'a');
    await client.create(R.services, svc('f'));
    assert.equal(await until(() => ipOf(client, 'f'), 'f gets a\'s IP'), aIP);
  } finally {
    await c.stop();
    await server.close();
  }
});

test('an invalid configuration is reported in ConfigurationState and the last valid one keeps working', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    await c.start();
    await client.create(R.services, svc('one'));
    await until(() => ipOf(client, 'one'), 'one IP');
    await client.create(R.ipaddresspools, { metadata: { name: 'broken', namespace: NS }, spec: { addresses: ['not-an-ip'] } });
    const cs = await until(async () => {
      const o = await client.get<KubeObject & { status?: { result?: string; errorSummary?: string } }>(R.configurationstates, NS, 'controller');
      return o?.status?.result === 'Invalid' ? o.status : undefined;
    }, 'Invalid state');
    assert.match(cs.errorSummary ?? '', /IPAddressPool\/broken/);
    await client.create(R.services, svc('two'));
    assert.equal(await until(() => ipOf(client, 'two'), 'two IP from the last valid config'), '192.0.2.11');
    assert.equal(await ipOf(client, 'one'), '192.0.2.10');
    await client.delete(R.ipaddresspools, NS, 'broken');
    await until(async () => {
      const o = await client.get<KubeObject & { status?: { result?: string } }>(R.configurationstates, NS, 'controller');
      return o?.status?.result === 'Valid' ? true : undefined;
    }, 'Valid again');
  } finally {
    await c.stop();
    await server.close();
  }
});

test('a restarted controller keeps every IP (recovery from Service status before any new assignment)', async () => {
  const { server, client } = await setup();
  const first = controller(client, 'first');
  const assigned: Record<string, string> = {};
  try {
    await first.start();
    // created in reverse key order, so a fresh allocation in key order would differ
    for (const n of ['z', 'y', 'x']) {
      await client.create(R.services, svc(n));
      assigned[n] = await until(() => ipOf(client, n), `${n} IP`);
    }
  } finally {
    await first.stop();
  }
  assert.deepEqual(assigned, { z: '192.0.2.10', y: '192.0.2.11', x: '192.0.2.12' });
  // while no controller runs, a new Service appears
  await client.create(R.services, svc('w'));
  const writesBefore = server.requests.length;
  const second = controller(client, 'second');
  try {
    await second.start();
    assert.equal(await until(() => ipOf(client, 'w'), 'w IP'), '192.0.2.13');
    for (const n of Object.keys(assigned)) assert.equal(await ipOf(client, n), (assigned as Record<string, string>)[n], `${n} kept its IP`);
    const rewrites = server.requests
      .slice(writesBefore)
      .filter((r) => r.method === 'PATCH' && /\/services\/[xyz](\/status)?$/.test(r.path));
    assert.deepEqual(rewrites, [], 'no write to Services whose IPs were recovered');
  } finally {
    await second.stop();
    await server.close();
  }
});

test('informers survive watch disconnects and 410 Gone while the controller runs', async () => {
  const { server, client } = await setup();
  const c = controller(client, 'c1');
  try {
    await c.start();
    server.closeWatches();
    await client.create(R.services, svc('after-close'));
    await until(() => ipOf(client, 'after-close'), 'IP after forced close');
    server.closeWatches();
    await client.create(R.services, svc('after-410'));
    server.compact();
    assert.equal(await until(() => ipOf(client, 'after-410'), 'IP after 410'), '192.0.2.11');
  } finally {
    await c.stop();
    await server.close();
  }
});

function startProcess(kubeconfig: string, identity: string): ChildProcess {
  const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'metallb-ts.js');
  return spawn(
    process.execPath,
    [bin, 'controller', '--kubeconfig', kubeconfig, '--identity', identity, '--lease-duration', '2', '--renew-deadline', '1.5', '--retry-period', '0.2', '--http-listen', 'off', '--log-level', 'warn'],
    { env: { ...process.env, METALLB_TS_FROM_SOURCE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

test('two controller processes: one leader writes; kill -9 it and the other takes over after the lease expires', async () => {
  const { server, client, kubeconfig } = await setup();
  const procs = new Map<string, ChildProcess>();
  const stderr: string[] = [];
  try {
    for (const id of ['ctl-a', 'ctl-b']) {
      const p = startProcess(kubeconfig, id);
      p.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
      procs.set(id, p);
    }
    const holder = await until(async () => (await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(R.leases, NS, 'metallb-ts-controller'))?.spec?.holderIdentity || undefined, 'a leader', 30000);
    await client.create(R.services, svc('first'));
    assert.equal(await until(() => ipOf(client, 'first'), 'first IP', 20000), '192.0.2.10');
    // the event follows the status write: wait for it before killing the leader, or a loaded
    // machine kills it in between (that lost event is the kill's doing, not a fail-over bug)
    await until(async () => (await client.list(R.events, { namespace: 'web' })).items.some((e) => e['reason'] === 'IPAllocated') || undefined, 'IPAllocated event for first', 20000);
    // only the leader wrote: every Service write came from one identity's lease period — check
    // the follower has not created events
    const leader = procs.get(holder);
    assert.ok(leader, `holder ${holder} is one of ours`);
    leader.kill('SIGKILL');
    await new Promise((r) => leader.once('exit', r));
    procs.delete(holder);
    const other = [...procs.keys()][0] ?? '';
    const killedAt = Date.now();
    const next = await until(async () => {
      const l = await client.get<KubeObject & { spec?: { holderIdentity?: string; leaseTransitions?: number } }>(R.leases, NS, 'metallb-ts-controller');
      return l?.spec?.holderIdentity === other ? l.spec : undefined;
    }, 'take-over', 20000);
    assert.ok(Date.now() - killedAt >= 1000, 'take-over waits for lease expiry');
    assert.equal(next.leaseTransitions, 1);
    await client.create(R.services, svc('second'));
    assert.equal(await until(() => ipOf(client, 'second'), 'second IP from the new leader', 20000), '192.0.2.11');
    assert.equal(await ipOf(client, 'first'), '192.0.2.10', 'fail-over keeps the IP');
    // the event is posted after the status write: wait until the second one is there too
    const events = await until(async () => {
      const ev = (await client.list(R.events, { namespace: 'web' })).items.filter((e) => e['reason'] === 'IPAllocated');
      return ev.some((e) => (e['involvedObject'] as { name: string }).name === 'second') ? ev : undefined;
    }, 'IPAllocated event for second', 20000);
    assert.deepEqual(events.map((e) => (e['involvedObject'] as { name: string }).name).sort(), ['first', 'second'], 'each IP announced once');
    assert.deepEqual(
      events.map((e) => e['reportingInstance']),
      [holder, other],
    );
  } catch (e) {
    process.stderr.write(stderr.join(''));
    throw e;
  } finally {
    for (const p of procs.values()) {
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
    }
    await server.close();
  }
});

test('controller process: /healthz, /readyz, /metrics with MetalLB metric names', async () => {
  const { server, client, kubeconfig } = await setup();
  const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'metallb-ts.js');
  const p = spawn(process.execPath, [bin, 'controller', '--kubeconfig', kubeconfig, '--disable-leader-election', '--http-listen', '127.0.0.1:0'], {
    env: { ...process.env, METALLB_TS_FROM_SOURCE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  p.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const url = await until(() => /"url":"(http:\/\/[^"]+)"/.exec(log)?.[1], 'metrics URL in the log', 20000);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    await until(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 'ready', 20000);
    await client.create(R.services, svc('m1'));
    await until(() => ipOf(client, 'm1'), 'm1 IP', 20000);
    const text = await until(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return /metallb_allocator_addresses_in_use_total\{pool="pool-a"\} 1/.test(t) ? t : undefined;
    }, 'allocator metrics', 20000);
    assert.match(text, /metallb_allocator_addresses_total\{pool="pool-a"\} 4/);
    assert.match(text, /metallb_k8s_client_updates_total \d+/);
    assert.match(text, /metallb_k8s_client_config_stale_bool 0/);
    // MetalLB 0.14+'s per-family allocator gauges and allocated-services count, label `pool`
    assert.match(text, /metallb_allocator_ipv4_addresses_in_use_total\{pool="pool-a"\} 1/);
    assert.match(text, /metallb_allocator_ipv6_addresses_in_use_total\{pool="pool-a"\} 0/);
    assert.match(text, /metallb_allocator_ipv4_addresses_total\{pool="pool-a"\} 4/);
    assert.match(text, /metallb_allocator_ipv6_addresses_total\{pool="pool-a"\} 0/);
    assert.match(text, /metallb_allocator_services_allocated_total\{pool="pool-a"\} 1/);
    // every metric name MetalLB's controller and speaker register exists in our registry
    for (const name of [
      'metallb_k8s_client_updates_total', 'metallb_k8s_client_update_errors_total', 'metallb_k8s_client_config_loaded_bool',
      'metallb_k8s_client_config_stale_bool', 'metallb_bgp_session_up', 'metallb_bgp_updates_total', 'metallb_bgp_announced_prefixes_total',
      'metallb_bgp_pending_prefixes_total', 'metallb_speaker_announced',
    ]) assert.match(text, new RegExp(`# TYPE ${name} `), name);
    // ours: Events the bounded event queue could not keep or the API server refused (none here)
    assert.match(text, /# TYPE metallb_k8s_client_events_dropped_total counter/);
    assert.doesNotMatch(text, /metallb_k8s_client_events_dropped_total\{/);
    const status = (await (await fetch(`${url}/status`)).json()) as { leader: boolean; assignments: Record<string, { ips: string[] }> };
    assert.equal(status.leader, true);
    assert.deepEqual(status.assignments['web/m1']?.ips, ['192.0.2.10']);
  } catch (e) {
    process.stderr.write(log);
    throw e;
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
    await server.close();
  }
});

test('dual-stack: RequireDualStack gets one IPv4 and one IPv6 address; pool status counts per family', async () => {
  const { server, client } = await setup();
  await client.create(R.ipaddresspools, { metadata: { name: 'pool-ds', namespace: NS }, spec: { addresses: ['198.51.100.0/30', '2001:db8:5::/126'] } });
  const c = controller(client, 'c1');
  try {
    await c.start();
    await client.create(R.services, svc('ds', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }));
    await client.patch(R.services, 'web', 'ds', { metadata: { annotations: { 'metallb.io/address-pool': 'pool-ds' } } });
    const ips = await until(async () => {
      const s = await client.get<Svc>(R.services, 'web', 'ds');
      const l = s?.status?.loadBalancer?.ingress?.map((i) => i.ip) ?? [];
      return l.length === 2 ? l : undefined;
    }, 'two addresses');
    assert.deepEqual(ips, ['198.51.100.0', '2001:db8:5::']);
    const st = await until(async () => {
      const p = await client.get<KubeObject & { status?: { assignedIPv4?: number; assignedIPv6?: number; availableIPv4?: number; availableIPv6?: number } }>(R.ipaddresspools, NS, 'pool-ds');
      return p?.status?.assignedIPv6 === 1 ? p.status : undefined;
    }, 'pool-ds status');
    assert.deepEqual(st, { assignedIPv4: 1, assignedIPv6: 1, availableIPv4: 3, availableIPv6: 3 });
  } finally {
    await c.stop();
    await server.close();
  }
});
