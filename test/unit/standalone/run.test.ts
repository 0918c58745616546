// `metallb-ts standalone` wiring (run()): folder watching, reload, state file, HTTP endpoints
// and stop, in-process with the real loader/allocator/planner and a recording speaker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from '../../../src/cli/standalone.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface StatusView {
  ready: boolean;
  stale: boolean;
  configErrors: string[];
  services: { name: string; ips: string[] }[];
}

test('run(): watch, reload, keep last good, persist, serve, stop', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-run-'));
  const dir = join(d, 'manifests');
  cpSync('examples/standalone', dir, { recursive: true });
  const statePath = join(d, 'state.json');
  const speaker = new RecordingSpeaker();
  speaker.state = 'Established';
  speaker.counters = { opensSent: 1, opensReceived: 1, keepalivesSent: 3, keepalivesReceived: 2, updatesSent: 2 };
  const plans = speaker.plans;
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  let url = '';
  const done = run(['-f', dir, '--node', 'quickstart', '--state', statePath, '--http-listen', '127.0.0.1:0', '--log-level', 'silent'], {
    bgp: speaker,
    layer2: false,
    stopSignal,
    onListening: (u) => (url = u),
  });
  try {
    await until('listening', async () => (url ? true : undefined));
    const status = async (): Promise<StatusView> => (await (await fetch(url + '/status')).json()) as StatusView;
    assert.equal((await fetch(url + '/readyz')).status, 200);
    assert.deepEqual((await status()).services.map((s) => [s.name, s.ips]), [['web', ['203.0.113.10']]]);

    // a Service added (atomic write)
    const svc = readFileSync(join(dir, 'service.yaml'), 'utf8').replace('name: web', 'name: api');
    writeFileSync(join(dir, '.api.tmp'), svc);
    renameSync(join(dir, '.api.tmp'), join(dir, 'api.yaml'));
    await until('api allocated', async () => ((await status()).services.length === 2 ? true : undefined));
    assert.deepEqual((await status()).services.map((s) => [s.name, s.ips]), [
      ['api', ['203.0.113.11']],
      ['web', ['203.0.113.10']],
    ]);
    assert.equal(plans.at(-1)?.[0]?.routes.length, 2);
    // the state file is written in the background right after the announcement
    const savedKeys = (): string[] => {
      try {
        return Object.keys((JSON.parse(readFileSync(statePath, 'utf8')) as { assignments: Record<string, unknown> }).assignments);
      } catch {
        return [];
      }
    };
    await until('state file written', async () => (savedKeys().length === 2 ? true : undefined));
    assert.deepEqual(savedKeys(), ['default/api', 'default/web']);

    // a broken edit: last good config keeps running, errors visible
    const nPlans = plans.length;
    writeFileSync(join(dir, 'pool.yaml'), readFileSync(join(dir, 'pool.yaml'), 'utf8').replace('203.0.113.10-203.0.113.20', '203.0.113.300/32'));
    const st = await until('stale', async () => {
      const s = await status();
      return s.stale ? s : undefined;
    });
    assert.equal(st.ready, true);
    assert.match(st.configErrors.join('\n'), /pool\.yaml:\d+: IPAddressPool\/quickstart-pool: spec\.addresses/);
    assert.deepEqual(plans.slice(nPlans).map((p) => p[0]?.routes.length), plans.slice(nPlans).map(() => 2), 'the same routes under the last good configuration');
    const metrics = await (await fetch(url + '/metrics')).text();
    assert.match(metrics, /^metallb_k8s_client_config_stale_bool 1$/m);
    // every per-session metric, fed from the typed NodeStatus; peer = the peer address
    assert.match(metrics, /^metallb_bgp_session_up\{peer="127\.0\.0\.1",bgppeer="local-router"\} 1$/m);
    assert.match(metrics, /^metallb_bgp_announced_prefixes_total\{peer="127\.0\.0\.1",bgppeer="local-router"\} 2$/m);
    assert.match(metrics, /^metallb_bgp_pending_prefixes_total\{peer="127\.0\.0\.1",bgppeer="local-router"\} 0$/m);
    assert.match(metrics, /^metallb_bgp_opens_sent\{peer="127\.0\.0\.1",bgppeer="local-router"\} 1$/m);
    assert.match(metrics, /^metallb_bgp_opens_received\{peer="127\.0\.0\.1",bgppeer="local-router"\} 1$/m);
    assert.match(metrics, /^metallb_bgp_keepalives_sent\{peer="127\.0\.0\.1",bgppeer="local-router"\} 3$/m);
    assert.match(metrics, /^metallb_bgp_keepalives_received\{peer="127\.0\.0\.1",bgppeer="local-router"\} 2$/m);
    assert.match(metrics, /^metallb_bgp_updates_total\{peer="127\.0\.0\.1",bgppeer="local-router"\} 2$/m);
    assert.match(metrics, /^metallb_allocator_addresses_in_use_total\{pool="quickstart-pool"\} 2$/m);

    // fix it; remove a Service
    cpSync('examples/standalone/pool.yaml', join(dir, 'pool.yaml'));
    unlinkSync(join(dir, 'api.yaml'));
    await until('recovered', async () => {
      const s = await status();
      return !s.stale && s.services.length === 1 ? true : undefined;
    });
    assert.equal(plans.at(-1)?.[0]?.routes.length, 1);
  } finally {
    stop();
    assert.equal(await done, 0);
    rmSync(d, { recursive: true, force: true });
  }
  assert.deepEqual(speaker.stopped, { withdraw: false }, 'a stop signal is a restart: graceful-restart peers keep the routes (--withdraw-on-stop changes that)');
});

test('run(): usage errors give exit code 2, state file inside the folder is refused', async () => {
  assert.equal(await run(['--node', 'x']), 2);
  const d = mkdtempSync(join(tmpdir(), 'mlbt-run-'));
  try {
    assert.equal(await run(['-f', d, '--node', 'x', '--state', join(d, 'state.json')]), 2);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('run(): an empty folder starts with a warning (as validate), serves /status and /readyz, and picks up files added later; SIGHUP re-reads', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-run-'));
  const dir = join(d, 'manifests');
  mkdirSync(dir);
  const speaker = new RecordingSpeaker();
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  let url = '';
  const done = run(['-f', dir, '--node', 'quickstart', '--state', join(d, 'state.json'), '--http-listen', '127.0.0.1:0', '--log-level', 'silent'], {
    bgp: speaker,
    layer2: false,
    stopSignal,
    onListening: (u) => (url = u),
  });
  try {
    await until('listening', async () => (url ? true : undefined));
    const status = async (): Promise<StatusView & { configWarnings: string[] }> => (await (await fetch(url + '/status')).json()) as StatusView & { configWarnings: string[] };
    // nothing wrong, nothing to do: ready, not stale, and it says why nothing happens
    assert.equal((await fetch(url + '/readyz')).status, 200);
    const st = await status();
    assert.equal(st.stale, false);
    assert.deepEqual(st.configErrors, []);
    assert.deepEqual(st.services, []);
    assert.match(st.configWarnings.join('\n'), /no objects found in .*manifests \(folders are read for \*\.yaml, \*\.yml, \*\.json\)/);

    // files added later are picked up (the folder is watched although it was empty)
    cpSync('examples/standalone', dir, { recursive: true });
    await until('web allocated', async () => ((await status()).services.length === 1 ? true : undefined));
    assert.deepEqual((await status()).services.map((s) => [s.name, s.ips]), [['web', ['203.0.113.10']]]);
    assert.ok(!(await status()).configWarnings.some((w) => w.startsWith('no objects found')));
    assert.equal(speaker.plans.at(-1)?.[0]?.routes.length, 1);

    // SIGHUP (sent to this process: run() handles it) re-reads the folder and does not stop it
    const before = speaker.plans.length;
    process.kill(process.pid, 'SIGHUP');
    await until('re-read after SIGHUP', async () => (speaker.plans.length > before ? true : undefined));
    assert.equal(speaker.stopped, undefined, 'SIGHUP does not stop the speaker');
  } finally {
    stop();
    assert.equal(await done, 0);
    rmSync(d, { recursive: true, force: true });
  }
});
