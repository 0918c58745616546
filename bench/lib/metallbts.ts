// metallb-ts as the sender under test: the real `metallb-ts standalone` process, run inside the
// benchmark's sender namespace, fed from a folder of manifests written here (one pool, one
// BGPPeer per receiver address, one BGPAdvertisement, N LoadBalancer Services).

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, run, startBg, tailFile, waitFor } from './proc.ts';
import type { BgProcess } from './proc.ts';
import { hostAddr, lastHost, BENCH_BASE } from './routes.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const METALLB_BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
/** Compiled copy of src/ used by the benchmarks (under node_modules so packages resolve). */
export const BUILD_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'metallb-ts-bench');

let entry: string[] = [METALLB_BIN];
let moduleRoot = join(REPO_ROOT, 'src');
let nodeFlags: string[] = ['--import', 'tsx'];
let profileDir: string | undefined;

/** Run every metallb-ts process with `node --cpu-prof`, profiles written to `dir`. */
export function setProfileDir(dir: string | undefined): void {
  profileDir = dir;
}

function profFlags(): string[] {
  return profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
}

/**
 * Compiles src/ with tsc into BUILD_DIR and runs metallb-ts from there (plain JS, as users run
 * it after `npm run build`), so that tsx's on-the-fly transpiler is not part of the figures.
 * With fromSource, runs bin/metallb-ts.js (through tsx when dist/ is absent).
 */
export async function prepareMetallb(fromSource: boolean): Promise<string> {
  if (fromSource) {
    entry = [METALLB_BIN];
    moduleRoot = join(REPO_ROOT, 'src');
    nodeFlags = ['--import', 'tsx'];
    return `${METALLB_BIN} (source)`;
  }
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = join(BUILD_DIR, 'dist');
  rmSync(out, { recursive: true, force: true });
  const r = await run(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', out], { timeoutMs: 600000 });
  const main = join(out, 'cli', 'main.js');
  if (!existsSync(main)) throw new BenchError(`compiling metallb-ts failed: ${(r.stdout + r.stderr).slice(0, 800)}`);
  const launcher = join(BUILD_DIR, 'launch.mjs');
  writeFileSync(launcher, "import { main } from './dist/cli/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
  entry = [launcher];
  moduleRoot = out;
  nodeFlags = [];
  return `${launcher} (compiled with tsc${r.code !== 0 ? '; tsc reported type errors, JS emitted anyway' : ''})`;
}

/** `node` arguments that run `metallb-ts SUBCOMMAND...` as prepared by prepareMetallb. */
export function metallbArgv(sub: string[]): string[] {
  return [...profFlags(), ...(entry[0] === METALLB_BIN ? [] : nodeFlags), ...entry, ...sub];
}

export interface MetallbPeer {
  name: string;
  address: string;
  peerASN: number;
}

export interface MetallbOptions {
  ns: string;
  dir: string;
  node: string;
  nodeAddress: string;
  myASN: number;
  peers: MetallbPeer[];
  /** Pool size (addresses from 198.18.0.0). */
  poolSize: number;
  holdTime?: number;
  keepaliveTime?: number;
  connectTime?: number;
  httpPort?: number;
  /** Run only the BGP speaker (bench/lib/speaker-child.mjs) with a plan of poolSize routes. */
  speakerOnly?: boolean;
  /** A BFDProfile (receive = transmit interval) on every BGPPeer. */
  bfd?: { intervalMs: number; multiplier: number };
}

/** The config manifests (everything but Services). */
export function configYaml(o: MetallbOptions): string {
  const docs: string[] = [];
  docs.push(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: bench
  namespace: metallb-system
spec:
  addresses:
  - ${BENCH_BASE}-${lastHost(Math.max(1, o.poolSize))}
`);
  for (const p of o.peers) {
    let timers = '';
    if (o.holdTime !== undefined) timers += `  holdTime: ${o.holdTime}s\n`;
    if (o.keepaliveTime !== undefined) timers += `  keepaliveTime: ${o.keepaliveTime}s\n`;
    if (o.connectTime !== undefined) timers += `  connectTime: ${o.connectTime}s\n`;
    if (o.bfd) timers += '  bfdProfile: bench\n';
    docs.push(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: ${p.name}
  namespace: metallb-system
spec:
  myASN: ${o.myASN}
  peerASN: ${p.peerASN}
  peerAddress: ${p.address}
${timers}`);
  }
  if (o.bfd) {
    docs.push(`apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: bench
  namespace: metallb-system
spec:
  receiveInterval: ${o.bfd.intervalMs}
  transmitInterval: ${o.bfd.intervalMs}
  detectMultiplier: ${o.bfd.multiplier}
`);
  }
  docs.push(`apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bench
  namespace: metallb-system
spec:
  ipAddressPools:
  - bench
`);
  return docs.join('---\n');
}

/** One LoadBalancer Service manifest asking for the i-th benchmark address. */
export function serviceYaml(i: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: svc-${i}
  namespace: bench
  annotations:
    metallb.io/loadBalancerIPs: ${hostAddr(i)}
spec:
  type: LoadBalancer
  ports:
  - port: 80
    protocol: TCP
`;
}

export class Metallb {
  readonly opts: MetallbOptions;
  readonly folder: string;
  readonly servicesDir: string;
  readonly statePath: string;
  readonly httpPort: number;
  proc: BgProcess | undefined;

  constructor(opts: MetallbOptions) {
    this.opts = opts;
    mkdirSync(opts.dir, { recursive: true });
    this.folder = join(opts.dir, 'manifests');
    this.servicesDir = join(this.folder, 'services');
    this.statePath = join(opts.dir, 'state.json');
    this.httpPort = opts.httpPort ?? 7472;
  }

  get pid(): number {
    if (!this.proc) throw new BenchError('metallb-ts not started');
    return this.proc.pid;
  }

  /** Writes the config and `services` Services (0..services-1) into the folder. */
  writeFolder(services: number): void {
    rmSync(this.folder, { recursive: true, force: true });
    mkdirSync(this.servicesDir, { recursive: true });
    writeFileSync(join(this.folder, 'config.yaml'), configYaml(this.opts));
    if (services > 0) {
      const parts: string[] = [];
      for (let i = 0; i < services; i++) parts.push(serviceYaml(i));
      writeFileSync(join(this.servicesDir, 'all.yaml'), parts.join('---\n'));
    }
  }

  serviceFile(i: number): string {
    return join(this.servicesDir, `svc-${i}.yaml`);
  }

  async start(): Promise<void> {
    const o = this.opts;
    const args = o.speakerOnly
      ? [
          'netns', 'exec', o.ns, process.execPath, ...profFlags(), ...nodeFlags, join(REPO_ROOT, 'bench', 'lib', 'speaker-child.mjs'),
          moduleRoot, String(o.poolSize), String(this.httpPort), o.nodeAddress, String(o.myASN), String(o.peers[0]?.peerASN ?? 0),
          o.holdTime !== undefined ? String(o.holdTime) : '-', o.keepaliveTime !== undefined ? String(o.keepaliveTime) : '-',
          ...o.peers.map((p) => p.address),
        ]
      : [
      'netns', 'exec', this.opts.ns,
      process.execPath, ...profFlags(), ...(entry[0] === METALLB_BIN ? [] : nodeFlags), ...entry, 'standalone',
      '-f', this.folder,
      '--node', this.opts.node,
      '--node-address', this.opts.nodeAddress,
      '--state', this.statePath,
      '--http-listen', `127.0.0.1:${this.httpPort}`,
      '--log-level', 'warn',
      ];
    this.proc = startBg(`metallb-ts(${this.opts.dir})`, 'ip', args, join(this.opts.dir, 'metallb-ts.log'));
    await waitFor(
      'metallb-ts /healthz',
      async () => {
        if (this.proc?.exited) throw new BenchError(`metallb-ts standalone exited (code ${this.proc.exitCode}): ${tailFile(join(this.opts.dir, 'metallb-ts.log'), 15)}`);
        const r = await this.http('/healthz');
        return r !== undefined ? true : undefined;
      },
      120000,
      200,
    );
  }

  /** GET a path from the standalone HTTP server (inside the namespace, through curl). */
  async http(path: string): Promise<string | undefined> {
    const r = await run('ip', ['netns', 'exec', this.opts.ns, 'curl', '-sf', '--max-time', '20', `http://127.0.0.1:${this.httpPort}${path}`], { timeoutMs: 30000 });
    return r.code === 0 ? r.stdout : undefined;
  }

  /** GET a path, discarding the body: its size in bytes (undefined when the request failed). */
  async fetchSize(path: string): Promise<number | undefined> {
    const r = await run(
      'ip',
      ['netns', 'exec', this.opts.ns, 'curl', '-sf', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '120', `http://127.0.0.1:${this.httpPort}${path}`],
      { timeoutMs: 130000 },
    );
    return r.code === 0 ? Number(r.stdout.trim()) : undefined;
  }

  /**
   * The sessions' states and route counts: /status without the lists (a full /status of 10
   * sessions x 100k routes is ~200 MB of JSON, and fetching it is what the process's memory
   * would then be measured with).
   */
  async status(): Promise<StatusView | undefined> {
    const body = await this.http(STATUS_COUNTS);
    if (body === undefined) return undefined;
    try {
      return summarizeStatus(JSON.parse(body) as unknown);
    } catch {
      return undefined;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.stop(signal);
  }
}

/** /status with counts instead of route and Service lists (src/observability/statuslists.ts). */
export const STATUS_COUNTS = '/status?routes=count&services=count';

export interface SessionView {
  peer: string;
  /** The speaker's state string, lower-cased ("" when unknown). */
  state: string;
  established: boolean;
  routes: number;
}

export interface StatusView {
  ready: boolean;
  services: number;
  sessions: SessionView[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Extracts what the benchmarks need from /status; tolerant of the speaker's status shape. */
export function summarizeStatus(j: unknown): StatusView {
  const o = isObj(j) ? j : {};
  const sessions: SessionView[] = [];
  for (const s of Array.isArray(o['sessions']) ? o['sessions'] : []) {
    if (!isObj(s)) continue;
    const sp = isObj(s['speaker']) ? s['speaker'] : {};
    const st = typeof sp['state'] === 'string' ? sp['state'] : typeof sp['fsmState'] === 'string' ? sp['fsmState'] : '';
    sessions.push({
      peer: typeof s['peer'] === 'string' ? s['peer'] : '',
      state: st.toLowerCase(),
      established: st.toLowerCase() === 'established',
      routes: typeof s['routeCount'] === 'number' ? s['routeCount'] : Array.isArray(s['routes']) ? s['routes'].length : 0,
    });
  }
  return {
    ready: o['ready'] === true,
    services: typeof o['serviceCount'] === 'number' ? o['serviceCount'] : Array.isArray(o['services']) ? o['services'].length : 0,
    sessions,
  };
}
