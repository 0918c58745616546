// `npm run bench` entry point: runs every benchmark, or the ones named on the command line.
//   npm run bench -- [fulltable] [churn] [allocation] [failure] [footprint] [codec]
//                    [--n 10000,100000] [--runs 3] [--impl metallb-ts,gobgp,bird] [--smoke]
//                    [--rate 20] [--json FILE] [--keep]
// Tables (for people) go to stderr, one JSON line per result to stdout (and --json FILE).
// Needs root, ip, tcpdump, curl, bird/birdc and gobgpd/gobgp; refuses to run without them.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { churn } from './churn.ts';
import { failure, FAILURE_SCENARIOS } from './failure.ts';
import type { FailureScenario } from './failure.ts';
import { footprint } from './footprint.ts';
import { coldStart } from './coldstart.ts';
import { fullTable } from './fulltable.ts';
import { prepareMetallb, REPO_ROOT, setProfileDir } from './lib/metallbts.ts';
import { BenchError, cleanupAll, isAborted, requirePrereqs } from './lib/proc.ts';
import { MAX_ROUTES } from './lib/routes.ts';
import { DEFAULT_IMPLS, IMPLS, isImpl } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { appendJsonLine, log, setJsonOutput } from './lib/stats.ts';

export const BENCHES = ['fulltable', 'churn', 'allocation', 'failure', 'footprint', 'coldstart', 'codec', 'controller'] as const;
type Bench = (typeof BENCHES)[number];
const NETWORK_BENCHES: Bench[] = ['fulltable', 'churn', 'failure', 'footprint', 'coldstart'];
const DEFAULT_BENCHES: Bench[] = ['fulltable', 'churn', 'allocation', 'failure', 'footprint', 'coldstart', 'controller'];

export const USAGE = `usage: npm run bench -- [BENCH...] [options]

benchmarks (default: all but codec):
  fulltable   N /32 routes to a BIRD receiver: metallb-ts vs GoBGP vs BIRD as senders
  churn       standalone: Services added one by one (files), then deleted; latency to BIRD
  allocation  100k Services over a /8 and an IPv6 /64 pool (bench/allocator.ts)
  failure     kill -9 the sender: time until BIRD withdraws (hold 3 s); kill BIRD: time
              until the sender reports the session down; freeze the sender with BFD at
              100x3 / 50x3 (metallb-ts, BIRD): time until BIRD drops the routes
  footprint   sender RSS and idle CPU% with 0/10k/100k routes, 1 and 10 sessions
  coldstart   BIRD waiting; the sender started with N routes to load (metallb-ts: folder of N
              Services + state file; GoBGP: gobgpd + mrt inject): time to all N at BIRD
  codec       the codec micro-benchmark (bench/codec.ts)
  controller  N Services (default 10000) in the test API server (5 ms per request), then the
              controller started: time to all IPs, requests per Service by verb, requests on a
              restart, RSS; against a plain client's status patches, sequential and 8-way
              (bench/controller.ts)

options:
  --n LIST      sizes (fulltable: routes, default 10000,100000; footprint: routes, default
                0,10000,100000; coldstart: routes, default 100000; churn: Services, default 1000)
  --runs K      runs per figure (median and min–max are reported; default 3)
  --impl LIST   senders to compare: metallb-ts (standalone process), metallb-ts-speaker (the
                BGP speaker alone, given the plan), gobgp, bird (default metallb-ts,gobgp,bird)
  --rate R      churn: Service files written per second (default 20)
  --scenario L  failure: only these scenarios (sender-kill, sender-freeze, receiver-kill,
                freeze-bfd-100x3, freeze-bfd-50x3; default all)
  --smoke       tiny sizes, 1 run (for CI; never asserts timings)
  --json FILE   also append the JSON lines to FILE
  --from-source run metallb-ts through bin/metallb-ts.js (tsx) instead of a tsc build
  --profile DIR run metallb-ts processes under node --cpu-prof, profiles written to DIR
  --sessions L  footprint: session counts (default 1,10)
  --poll PATH   footprint, metallb-ts: GET PATH (e.g. /status, /status?routes=count) once a
                second during the idle window, as an operator's or a tool's polling would
  --keep        keep the scratch directories (/tmp/mlbb-*) for inspection
  -h, --help    this text

Tables go to stderr; one JSON line per result ({"bench","n","impl","seconds","rssMB",...}) to stdout.
Must run as root: every benchmark creates its own network namespaces and deletes them after.`;

export interface RunArgs {
  benches: Bench[];
  sizes?: number[];
  runs: number;
  impls: Impl[];
  rate: number;
  scenarios?: FailureScenario[];
  smoke: boolean;
  json?: string;
  keep: boolean;
  fromSource: boolean;
  profile?: string;
  /** footprint: session counts. */
  sessions?: number[];
  /** footprint: path polled on metallb-ts's HTTP server during the idle window. */
  poll?: string;
}

function parseList(s: string, what: string): number[] {
  const out = s.split(',').map((x) => {
    const t = x.trim().toLowerCase();
    const m = /^(\d+)(k?)$/.exec(t);
    if (!m) throw new BenchError(`${what}: "${x}" is not a non-negative integer`);
    return Number(m[1]) * (m[2] === 'k' ? 1000 : 1);
  });
  return out;
}

export function parseArgs(argv: string[]): RunArgs | 'help' {
  const a: RunArgs = { benches: [], runs: 3, impls: [...DEFAULT_IMPLS], rate: 20, smoke: false, keep: false, fromSource: false };
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BenchError(`option ${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-h':
      case '--help':
        return 'help';
      case '--n':
        a.sizes = parseList(val(), '--n');
        break;
      case '--runs': {
        const r = parseList(val(), '--runs');
        if (r.length !== 1 || (r[0] ?? 0) < 1) throw new BenchError('--runs wants one integer >= 1');
        a.runs = r[0] ?? 1;
        runsGiven = true;
        break;
      }
      case '--impl': {
        const l = val().split(',');
        const bad = l.filter((x) => !isImpl(x));
        if (bad.length > 0) throw new BenchError(`--impl: unknown ${bad.join(', ')} (want ${IMPLS.join(', ')})`);
        a.impls = l.filter(isImpl);
        break;
      }
      case '--rate': {
        const r = Number(val());
        if (!Number.isFinite(r) || r <= 0 || r > 1000) throw new BenchError('--rate wants a number of Services per second in (0, 1000]');
        a.rate = r;
        break;
      }
      case '--scenario': {
        const l = val().split(',');
        const bad = l.filter((x) => !(FAILURE_SCENARIOS as readonly string[]).includes(x));
        if (bad.length > 0) throw new BenchError(`--scenario: unknown ${bad.join(', ')} (want ${FAILURE_SCENARIOS.join(', ')})`);
        a.scenarios = l as FailureScenario[];
        break;
      }
      case '--smoke':
        a.smoke = true;
        break;
      case '--json':
        a.json = val();
        break;
      case '--keep':
        a.keep = true;
        break;
      case '--profile':
        a.profile = val();
        break;
      case '--from-source':
        a.fromSource = true;
        break;
      case '--sessions': {
        const l = parseList(val(), '--sessions');
        if (l.some((x) => x < 1)) throw new BenchError('--sessions: at least 1 session');
        a.sessions = l;
        break;
      }
      case '--poll': {
        const p = val();
        if (!p.startsWith('/')) throw new BenchError(`--poll: "${p}" is not a path (e.g. /status?routes=count)`);
        a.poll = p;
        break;
      }
      default: {
        const b = arg === 'allocator' ? 'allocation' : arg;
        if (!(BENCHES as readonly string[]).includes(b)) throw new BenchError(`unknown benchmark or option "${arg}" (try --help)`);
        if (!a.benches.includes(b as Bench)) a.benches.push(b as Bench);
      }
    }
  }
  if (a.benches.length === 0) a.benches = [...DEFAULT_BENCHES];
  if (a.smoke && !runsGiven) a.runs = 1;
  for (const n of a.sizes ?? []) if (n > MAX_ROUTES) throw new BenchError(`--n: at most ${MAX_ROUTES} routes (198.18.0.0/15)`);
  return a;
}

/** Runs another engineer's benchmark script as a child process: stderr passed through, stdout
 * passed through and its JSON lines also appended to the --json file. */
function runScript(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT });
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      process.stdout.write(d);
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) appendJsonLine(l);
    });
    child.on('close', (code) => {
      if (pending.startsWith('{')) appendJsonLine(pending);
      resolve(code ?? 1);
    });
    child.on('error', () => resolve(1));
  });
}

export async function main(argv: string[]): Promise<number> {
  let args: RunArgs | 'help';
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  setJsonOutput(args.json);
  setProfileDir(args.profile ? resolve(args.profile) : undefined);
  const needNet = args.benches.some((b) => NETWORK_BENCHES.includes(b));
  if (needNet) {
    const bins = ['ip', 'tcpdump', 'curl', 'bird', 'birdc'];
    if (args.impls.includes('gobgp')) bins.push('gobgpd', 'gobgp');
    try {
      requirePrereqs(bins);
    } catch (e) {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  if (needNet && (args.impls.some((i) => i.startsWith('metallb-ts')) || args.benches.includes('churn'))) {
    try {
      log(`metallb-ts: ${await prepareMetallb(args.fromSource)}`);
    } catch (e) {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  let status = 0;
  for (const b of args.benches) {
    if (isAborted()) break;
    log(`=== ${b} ===`);
    try {
      switch (b) {
        case 'fulltable':
          await fullTable({ sizes: args.sizes ?? (args.smoke ? [200] : [10000, 100000]), runs: args.runs, impls: args.impls, keep: args.keep });
          break;
        case 'churn':
          await churn({ services: args.sizes?.[0] ?? (args.smoke ? 20 : 1000), rate: args.rate, runs: args.runs, impls: args.impls, keep: args.keep });
          break;
        case 'failure':
          await failure({ runs: args.runs, impls: args.impls, n: args.smoke ? 10 : 100, keep: args.keep, ...(args.scenarios ? { scenarios: args.scenarios } : {}) });
          break;
        case 'footprint':
          await footprint({
            sizes: args.sizes ?? (args.smoke ? [0, 100] : [0, 10000, 100000]),
            sessions: args.sessions ?? (args.smoke ? [1, 2] : [1, 10]),
            runs: args.runs,
            idleSeconds: args.smoke ? 2 : 10,
            impls: args.impls,
            keep: args.keep,
            ...(args.poll !== undefined ? { poll: args.poll } : {}),
          });
          break;
        case 'coldstart':
          await coldStart({ sizes: args.sizes ?? (args.smoke ? [100] : [100000]), runs: args.runs, impls: args.impls, keep: args.keep });
          break;
        case 'allocation':
        case 'controller':
        case 'codec': {
          const file = join(REPO_ROOT, 'bench', b === 'allocation' ? 'allocator.ts' : b === 'controller' ? 'controller.ts' : 'codec.ts');
          if (!existsSync(file)) {
            log(`${b}: ${file} does not exist yet; skipped`);
            status ||= 3;
            break;
          }
          const extra: string[] = [];
          if (args.smoke) extra.push('--smoke');
          if (b === 'codec' && !args.smoke) extra.push('--runs', String(args.runs));
          if (b === 'controller') {
            if (args.sizes?.[0] !== undefined) extra.push('--n', String(args.sizes[0]));
            if (args.fromSource) extra.push('--from-source');
            if (args.profile) extra.push('--profile', resolve(args.profile));
          }
          const code = await runScript(file, extra);
          if (code !== 0) {
            log(`${b}: ${file} exited with code ${code}`);
            status ||= 1;
          }
          break;
        }
      }
    } catch (e) {
      log(`${b} failed: ${e instanceof Error ? e.message : String(e)}`);
      status = 1;
    } finally {
      await cleanupAll();
    }
  }
  return status;
}

const isMain = process.argv[1] !== undefined && /bench[\\/]run\.ts$/.test(process.argv[1]);
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => cleanupAll().then(() => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
      void cleanupAll().then(() => process.exit(1));
    },
  );
}
