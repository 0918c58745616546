// Liveness protocol between real speaker processes over loopback UDP (no root needed): members
// find each other, a kill -9 is detected by the others, an impostor with the wrong secret is
// never accepted, and an IP whose interfaces a node lacks is advertised as ineligible.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, waitFor } from './lab.ts';

const dir = mkdtempSync(join(tmpdir(), 'l2m-'));
const base = 20000 + (process.pid % 20000);
const procs = new Map<string, ChildProcess>();
const SECRET = 'members-test-secret-0123456789';
const members = ['m1', 'm2', 'm3'].map((name, i) => ({ name, address: '127.0.0.1', port: base + i }));

interface Status {
  alive: string[];
  owners: Record<string, string | null>;
  members: { name: string; alive: boolean; ready: boolean; ineligible: string[] }[];
}

function startNode(name: string, port: number, secret = SECRET): void {
  const cfg = {
    node: name,
    secret,
    bind: { address: '127.0.0.1', port },
    members,
    // m3 has no interface called "nonexistent0": it must say so; m1/m2 neither, so nobody owns it
    services: [{ ip: '192.0.2.10', interfaces: ['nonexistent0'] }],
    statusFile: join(dir, `${name}-${port}.status.json`),
    logLevel: 'info',
  };
  const file = join(dir, `${name}-${port}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const out = openSync(join(dir, `${name}-${port}.log`), 'a');
  const p = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/layer2/main.ts'), '--config', file], { cwd: REPO, stdio: ['ignore', out, out] });
  closeSync(out);
  procs.set(`${name}-${port}`, p);
}

function status(name: string, port: number): Status | null {
  try {
    return JSON.parse(readFileSync(join(dir, `${name}-${port}.status.json`), 'utf8')) as Status;
  } catch {
    return null;
  }
}

async function kill(key: string, sig: NodeJS.Signals): Promise<void> {
  const p = procs.get(key);
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(sig);
  await done;
  procs.delete(key);
}

after(async () => {
  for (const k of [...procs.keys()]) await kill(k, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('speakers on loopback: discovery, kill -9 detection, impostor rejection, ineligibility', { timeout: 120_000 }, async (t) => {
  for (const m of members) startNode(m.name, m.port);
  await waitFor('all three to see each other, ready', 30_000, () =>
    members.every((m) => {
      const st = status(m.name, m.port);
      return JSON.stringify(st?.alive) === '["m1","m2","m3"]' && st?.members.every((x) => x.ready);
    }),
  );
  const s1 = status('m1', base);
  assert.ok(s1);
  assert.ok(s1.members.every((m) => m.ready));
  assert.deepEqual(s1.members.find((m) => m.name === 'm3')?.ineligible, ['192.0.2.10']);
  assert.equal(s1.owners['192.0.2.10'], null);

  const t0 = Date.now();
  await kill(`m3-${base + 2}`, 'SIGKILL');
  await waitFor('m1 and m2 to see m3 dead', 10_000, () =>
    ['m1', 'm2'].every((n, i) => JSON.stringify(status(n, base + i)?.alive) === '["m1","m2"]'),
  );
  const detect = Date.now() - t0;
  t.diagnostic(`kill -9 detected after ${detect} ms (status files are polled every 100 ms)`);
  assert.ok(detect < 5000, 'sanity bound');

  // an impostor claiming to be m3 with the wrong secret, on m3's port, is never accepted
  // the killed m3's last status file must not pass for the impostor's
  rmSync(join(dir, `m3-${base + 2}.status.json`), { force: true });
  startNode('m3', base + 2, 'wrong-secret-wrong-secret');
  await waitFor('the impostor to run', 30_000, () => status('m3', base + 2));
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(status('m1', base)?.alive, ['m1', 'm2']);
  assert.deepEqual(status('m3', base + 2)?.alive, ['m3'], 'and it accepts nobody either');
  assert.match(readFileSync(join(dir, `m1-${base}.log`), 'utf8'), /"alive":\["m1","m2"\],"msg":"layer2: member liveness changed"/);
});
