// Benchmark (not a test): the Kubernetes controller's throughput and API economy.
// N LoadBalancer Services are created in the test API server (a separate process, with a
// realistic per-request latency), then the real `metallb-ts controller` process is started:
//   - time from start to every Service holding an IP (Services/s),
//   - requests per Service by verb (goal: at most 3 writes; now status+annotation in one, event),
//   - requests on a restart with every Service already holding its IP (goal: 0 writes),
//   - controller RSS (peak and at the end).
// In the same run, a plain client does the same status patches (one per Service) sequentially
// and 8-way concurrently against the same server: the reference for what the server offers.
// Prints a table (stderr) and one JSON line per result on stdout.
// Run: node --import tsx bench/controller.ts [--n 10000] [--latency-ms 5] [--workers 16]
//      [--baseline N (default: --n)] [--smoke] [--from-source] [--profile DIR (node --cpu-prof
//      of the API server and the controller)]

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeClient, R } from '../src/kube/client.ts';
import type { KubeObject, WatchEvent } from '../src/kube/client.ts';
import { metallbArgv, prepareMetallb, REPO_ROOT, setProfileDir } from './lib/metallbts.ts';
import { BenchError, cleanupAll, memOf, startBg, tailFile, waitFor } from './lib/proc.ts';
import type { BgProcess } from './lib/proc.ts';
import { emitJson, log, printTable, round } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

interface Args {
  n: number;
  latencyMs: number;
  workers: number;
  baseline: number;
  fromSource: boolean;
  /** Write CPU profiles of the API server and controller processes here. */
  profile?: string;
}

function parse(argv: string[]): Args {
  const a: Args = { n: 10000, latencyMs: 5, workers: 16, baseline: -1, fromSource: false };
  let smoke = false;
  for (let i = 0; i < argv.length; i++) {
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new BenchError(`${argv[i - 1]} wants a non-negative number`);
      return v;
    };
    switch (argv[i]) {
      case '--n':
        a.n = num();
        break;
      case '--latency-ms':
        a.latencyMs = num();
        break;
      case '--workers':
        a.workers = num();
        break;
      case '--baseline':
        a.baseline = num();
        break;
      case '--smoke':
        smoke = true;
        break;
      case '--from-source':
        a.fromSource = true;
        break;
      case '--profile': {
        const d = argv[++i];
        if (!d) throw new BenchError('--profile wants a directory');
        a.profile = resolve(d);
        break;
      }
      default:
        throw new BenchError(`unknown option ${argv[i]}`);
    }
  }
  if (a.baseline < 0) a.baseline = a.n; // the reference does as many Services as the controller
  if (smoke) {
    a.n = Math.min(a.n, 200);
    a.baseline = Math.min(a.baseline, 100);
  }
  a.baseline = Math.min(a.baseline, a.n);
  return a;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs `fn` over items with `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const x = items[next++] as T;
      await fn(x);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, worker));
}

interface Counts {
  total: number;
  count: number;
  byVerb: Record<string, number>;
}

async function counts(url: string, q: { from?: number; ua?: string; path?: string }): Promise<Counts> {
  const u = new URL('/__test/counts', url);
  if (q.from !== undefined) u.searchParams.set('from', String(q.from));
  if (q.ua) u.searchParams.set('ua', q.ua);
  if (q.path) u.searchParams.set('path', q.path);
  const r = await fetch(u);
  return (await r.json()) as Counts;
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const writesOf = (c: Counts): number => WRITE_VERBS.reduce((s, v) => s + (c.byVerb[v] ?? 0), 0);
const fmtVerbs = (c: Counts, per = 1): string =>
  Object.entries(c.byVerb)
    .sort()
    .map(([v, k]) => `${v} ${per === 1 ? k : (k / per).toFixed(2)}`)
    .join(', ') || '0';

async function startController(kubeconfig: string, port: number, workers: number, dir: string, tag: string): Promise<BgProcess> {
  const argv = metallbArgv([
    'controller',
    '--kubeconfig', kubeconfig,
    '--namespace', 'metallb-system',
    '--disable-leader-election',
    '--http-listen', `127.0.0.1:${port}`,
    '--workers', String(workers),
    '--ml-secret-name', 'off',
    '--log-level', 'warn',
  ]);
  const bg = startBg(`controller-${tag}`, process.execPath, argv, join(dir, `controller-${tag}.log`));
  return bg;
}

async function controllerStatus(port: number): Promise<{ settled?: boolean } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/status`);
    return r.ok ? ((await r.json()) as { settled?: boolean }) : undefined;
  } catch {
    return undefined;
  }
}

export async function controllerBench(a: Args): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mlbb-controller-'));
  const results: BenchResult[] = [];
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    const prof = a.profile ? ['--cpu-prof', `--cpu-prof-dir=${a.profile}`] : [];
    setProfileDir(a.profile);
    const api = startBg('apiserver', process.execPath, [...prof, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'main.ts'), '--kubeconfig', kubeconfig, '--request-latency-ms', String(a.latencyMs)], join(dir, 'apiserver.log'));
    const url = await waitFor('the test API server', async () => {
      const line = tailFile(api.logFile, 50).split('\n').find((l) => l.startsWith('{"url"'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    }, 30000, 50);
    const setup = KubeClient.fromOptions({ kubeconfig, userAgent: 'bench-setup' });
    for (const ns of ['metallb-system', 'bench', 'baseline']) await setup.create(R.namespaces, { metadata: { name: ns } });
    await setup.create(R.ipaddresspools, { metadata: { name: 'bench-pool', namespace: 'metallb-system' }, spec: { addresses: ['10.128.0.0/14'] } });
    await setup.create(R.l2advertisements, { metadata: { name: 'l2', namespace: 'metallb-system' }, spec: {} });
    const width = String(a.n).length;
    const names = Array.from({ length: a.n }, (_, i) => `svc-${String(i).padStart(width, '0')}`);
    log(`controller bench: creating ${a.n} Services (latency ${a.latencyMs} ms per request)`);
    await pool(names, 32, async (name) => {
      // no node ports: 10k Services would exhaust the 30000-32767 range, as on a real cluster
      await setup.create(R.services, { metadata: { name, namespace: 'bench' }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] } });
    });

    // The reference: a plain client patching status, sequentially and 8-way.
    const base = names.slice(0, a.baseline);
    await pool(base, 32, async (name) => {
      await setup.create(R.services, { metadata: { name, namespace: 'baseline' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    });
    for (const [label, conc, octet] of [['plain client, sequential', 1, 1], ['plain client, 8 concurrent', 8, 2]] as const) {
      const c = KubeClient.fromOptions({ kubeconfig, userAgent: `bench-plain-${conc}` });
      const t0 = performance.now();
      let i = 0;
      await pool(base, conc, async (name) => {
        const k = i++;
        const ip = `10.${octet}.${(k >> 8) & 0xff}.${k & 0xff}`;
        await c.patch(R.services, 'baseline', name, { status: { loadBalancer: { ingress: [{ ip }] } } }, { status: true });
      });
      const s = (performance.now() - t0) / 1000;
      results.push({ bench: 'controller', n: base.length, impl: label, seconds: round(s), servicesPerSecond: round(base.length / s, 1), writesPerService: 1 });
    }
    // Gone before the controller starts (one request): its informer caches every Service of the
    // cluster, and the reference's Services must not weigh on its memory.
    await setup.delete(R.namespaces, undefined, 'baseline');

    // The controller, cold: every Service needs an IP.
    const port = await freePort();
    let withIP = 0;
    let tFirst = 0;
    const have = new Set<string>();
    const watcher = KubeClient.fromOptions({ kubeconfig, userAgent: 'bench-watch' });
    const listed = await watcher.list(R.services, { namespace: 'bench', limit: 0 });
    const allDone = new Promise<void>((resolve) => {
      void watcher.watch(R.services, { namespace: 'bench', resourceVersion: listed.resourceVersion }, (ev: WatchEvent) => {
        const o = ev.object as KubeObject & { status?: { loadBalancer?: { ingress?: unknown[] } } };
        if ((ev.type === 'MODIFIED' || ev.type === 'ADDED') && (o.status?.loadBalancer?.ingress?.length ?? 0) > 0 && !have.has(o.metadata.name)) {
          have.add(o.metadata.name);
          if (withIP++ === 0) tFirst = performance.now();
          if (withIP === a.n) resolve();
        }
      }, () => undefined);
    });
    const mark = (await counts(url, {})).total;
    const t0 = performance.now();
    const ctl = await startController(kubeconfig, port, a.workers, dir, 'cold');
    let tUp = 0;
    void waitFor('controller HTTP', async () => ((await controllerStatus(port)) ? true : undefined), 120000, 50).then(
      () => (tUp = (performance.now() - t0) / 1000),
      () => undefined,
    );
    let peak = 0;
    const sampler = setInterval(() => {
      const m = memOf(ctl.pid);
      if (m) peak = Math.max(peak, m.rssMB);
    }, 200);
    await Promise.race([
      allDone,
      ctl.done.then(() => {
        throw new BenchError(`controller exited: ${tailFile(ctl.logFile)}`);
      }),
    ]);
    const tAll = (performance.now() - t0) / 1000;
    await waitFor('controller settled', async () => ((await controllerStatus(port))?.settled ? true : undefined), 120000, 100);
    const cold = await counts(url, { from: mark, ua: 'metallb-ts-controller' });
    const mem = memOf(ctl.pid);
    clearInterval(sampler);
    results.push({
      bench: 'controller',
      n: a.n,
      impl: `metallb-ts controller (${a.workers} workers)`,
      seconds: round(tAll),
      processStartSeconds: round(tUp),
      firstIPSeconds: round((tFirst - t0) / 1000),
      servicesPerSecond: round(a.n / Math.max(0.001, tAll - tUp), 1),
      writesPerService: round(writesOf(cold) / a.n, 2),
      requestsPerService: fmtVerbs(cold, a.n),
      rssMB: round(mem?.rssMB ?? null, 1),
      peakRssMB: round(Math.max(peak, mem?.hwmMB ?? 0), 1),
    });
    await ctl.stop();

    // Restart: nothing changed, so nothing may be written.
    const mark2 = (await counts(url, {})).total;
    const t1 = performance.now();
    const again = await startController(kubeconfig, port, a.workers, dir, 'restart');
    await waitFor('restarted controller settled', async () => ((await controllerStatus(port))?.settled ? true : undefined), 120000, 100);
    const tSettle = (performance.now() - t1) / 1000;
    const restart = await counts(url, { from: mark2, ua: 'metallb-ts-controller' });
    const rmem = memOf(again.pid);
    results.push({
      bench: 'controller',
      n: a.n,
      impl: 'metallb-ts controller restart',
      seconds: round(tSettle),
      writes: writesOf(restart),
      requests: fmtVerbs(restart),
      rssMB: round(rmem?.rssMB ?? null, 1),
    });
    await again.stop();
    await api.stop();
  } finally {
    await cleanupAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function report(results: BenchResult[]): void {
  printTable(
    'controller: N Services created, then the controller started (test API server, per-request latency)',
    ['who', 'N', 'seconds (process start / first IP)', 'Services/s', 'writes/Service', 'requests (per Service, by verb)', 'RSS MB (end / peak)'],
    results.map((r) => [
      r.impl,
      r.n,
      r['processStartSeconds'] !== undefined ? `${r.seconds} (${r['processStartSeconds']} / ${r['firstIPSeconds']})` : r.seconds,
      r['servicesPerSecond'] ?? '-',
      r['writesPerService'] ?? r['writes'] ?? '-',
      r['requestsPerService'] ?? r['requests'] ?? '-',
      r.rssMB === undefined ? '-' : `${r.rssMB ?? '-'}${r['peakRssMB'] !== undefined ? ` / ${r['peakRssMB']}` : ''}`,
    ]),
  );
  for (const r of results) emitJson(r);
}

const isMain = process.argv[1] !== undefined && /bench[\\/]controller\.ts$/.test(process.argv[1]);
if (isMain) {
  const args = parse(process.argv.slice(2));
  log(`metallb-ts: ${await prepareMetallb(args.fromSource)}`);
  const results = await controllerBench(args);
  report(results);
  // the reference for the goal: ≥ 0.8× of the 8-way client's Services/s
  const conc = results.find((r) => r.impl === 'plain client, 8 concurrent');
  const ctl = results.find((r) => String(r.impl).startsWith('metallb-ts controller ('));
  if (conc && ctl) log(`controller / 8-way client Services/s: ${round(Number(ctl['servicesPerSecond']) / Number(conc['servicesPerSecond']), 2)}`);
}
