// `metallb-ts doctor`: topology and operational findings with a severity and a suggested fix,
// on a folder (-f) or a live cluster (--kubeconfig), optionally with what a running node sees
// (--status URL) and this machine's BGP port (--local-checks). Exit codes for CI.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readInputs } from '../config/load.ts';
import type { InputSet } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import { tryParseIP } from '../ip/index.ts';
import { diagnose, exitCode } from '../doctor/checks.ts';
import { readCluster } from '../doctor/cluster.ts';
import { findingsToJSON, formatFindings } from '../doctor/format.ts';
import { listenersOn, observeStatus } from '../doctor/observe.ts';
import { clusterState } from '../doctor/state.ts';
import { parseRouterConfig } from '../doctor/routerconf.ts';
import type { RouterConfig } from '../doctor/routerconf.ts';
import type { Finding, Observed, ObservedSession, Severity } from '../doctor/types.ts';
import { parseArgs, pick, UsageError } from './args.ts';
import { hasUnreadableInput } from './common.ts';

export const DOCTOR_USAGE = `usage: metallb-ts doctor (-f PATH... | --kubeconfig FILE) [--status URL]... [--local-checks] [options]

Finds configuration and topology problems no validation catches: all-iBGP chains through a
route publisher that never propagate, another BGP speaker holding the session (Calico), router-ID
clashes, selectors that select no node, pools nothing announces, advertisements that reach no
peer, IPv6 pools without an IPv6-capable session, sessions never Established (with the reason),
pools above 90 % used. Each finding has a severity and a suggested fix.

options:
  -f, --filename PATH      folder or file of manifests (repeatable), as for plan/standalone
  --kubeconfig FILE        read the live cluster instead (list only; nothing is written)
  --namespace NS           with --kubeconfig: only MetalLB objects of this namespace
  --status URL             a running standalone or speaker (http://HOST:PORT): its sessions are
                           checked too (repeatable, one per node)
  --local-checks           check this machine: another process listening on TCP port 179
  --router-config FILE     a BIRD or FRR configuration of a router/route publisher we peer with
                           (repeatable); *.conf files inside the -f folders are read too
  --node NAME              with no Node objects: the node's name (default "local")
  --node-address IP        with no Node objects: the node's address (default 127.0.0.1)
  --router-id IPV4         the --router-id the speakers run with, if any
  --load-balancer-class C  our loadBalancerClass
  --fail-on error|warning  lowest severity that makes the exit status 1 (default error)
  -o, --output text|json   output format (default text)
  -h, --help               this text

exit status: 0 no finding at or above --fail-on, 1 findings (or invalid configuration),
2 usage error, unreadable input or unreachable cluster/status URL
`;

interface Options {
  paths: string[];
  kubeconfig?: string;
  namespace?: string;
  status: string[];
  localChecks: boolean;
  routerConfigs: string[];
  node?: string;
  nodeAddress?: string;
  routerId?: string;
  lbClass?: string;
  failOn: Severity;
  output: 'text' | 'json';
}

function parse(argv: string[]): Options | string | 'help' {
  const p = parseArgs(
    argv,
    pick('--filename', '--kubeconfig', '--namespace', '--status', '--local-checks', '--router-config', '--node', '--node-address', '--router-id', '--load-balancer-class', '--fail-on', '--output'),
  );
  if (p instanceof UsageError) return p.message;
  if (p.help) return 'help';
  const o: Options = {
    paths: p.lists.get('--filename') ?? [],
    status: p.lists.get('--status') ?? [],
    localChecks: p.flags.has('--local-checks'),
    routerConfigs: p.lists.get('--router-config') ?? [],
    failOn: 'error',
    output: 'text',
  };
  const kc = p.values.get('--kubeconfig');
  if (kc !== undefined) o.kubeconfig = kc;
  if (o.paths.length === 0 && kc === undefined) return 'give -f PATH or --kubeconfig FILE';
  if (o.paths.length > 0 && kc !== undefined) return '-f and --kubeconfig are exclusive';
  const fail = p.values.get('--fail-on') ?? 'error';
  if (fail !== 'error' && fail !== 'warning') return `--fail-on must be "error" or "warning"`;
  o.failOn = fail;
  const out = p.values.get('--output') ?? 'text';
  if (out !== 'text' && out !== 'json') return `-o must be "text" or "json"`;
  o.output = out;
  const ns = p.values.get('--namespace');
  if (ns !== undefined) o.namespace = ns;
  const node = p.values.get('--node');
  if (node !== undefined) o.node = node;
  const na = p.values.get('--node-address');
  if (na !== undefined) {
    if (!tryParseIP(na)) return `--node-address: "${na}" is not an IP address`;
    o.nodeAddress = na;
  }
  const rid = p.values.get('--router-id');
  if (rid !== undefined) {
    if (tryParseIP(rid)?.family !== 4) return `--router-id: "${rid}" is not an IPv4 address`;
    o.routerId = rid;
  }
  const lb = p.values.get('--load-balancer-class');
  if (lb !== undefined) o.lbClass = lb;
  return o;
}

export async function run(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (o === 'help') {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(`metallb-ts doctor: ${o}\n${DOCTOR_USAGE}`);
    return 2;
  }
  let inputs: InputSet;
  const sources: string[] = [];
  if (o.kubeconfig !== undefined) {
    try {
      inputs = await readCluster(o.kubeconfig, o.namespace);
    } catch (e) {
      process.stderr.write(`metallb-ts doctor: cannot read the cluster: ${(e as Error).message}\n`);
      return 2;
    }
    sources.push(`cluster via ${o.kubeconfig}`);
  } else {
    inputs = readInputs(o.paths);
    sources.push(o.paths.join(', '));
  }
  for (const e of inputs.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  if (inputs.errors.length > 0 || !inputs.config) {
    if (hasUnreadableInput(inputs.errors)) return 2;
    process.stderr.write(`metallb-ts doctor: the configuration is invalid (${inputs.errors.length} error(s)); run \`metallb-ts validate\` for details\n`);
    return 1;
  }
  const observed: Observed = {};
  if (o.status.length > 0) {
    const sessions: ObservedSession[] = [];
    for (const url of o.status) {
      try {
        sessions.push(...(await observeStatus(url)));
      } catch (e) {
        process.stderr.write(`metallb-ts doctor: --status ${url}: ${(e as Error).message}\n`);
        return 2;
      }
      sources.push(`status ${url}`);
    }
    observed.sessions = sessions;
  }
  if (o.localChecks) {
    observed.listeners = listenersOn(179);
    sources.push('this machine');
  }
  const routers: RouterConfig[] = [];
  const confFiles = [...o.routerConfigs];
  for (const p of o.paths) {
    if (existsSync(p) && statSync(p).isDirectory()) for (const f of readdirSync(p).sort()) if (f.endsWith('.conf')) confFiles.push(join(p, f));
  }
  for (const f of confFiles) {
    try {
      routers.push(...parseRouterConfig(f, readFileSync(f, 'utf8')));
    } catch (e) {
      process.stderr.write(`metallb-ts doctor: --router-config ${f}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const state = clusterState(inputs, inputs.config, {
    ...(o.node !== undefined ? { node: o.node } : {}),
    ...(o.nodeAddress !== undefined ? { nodeAddress: o.nodeAddress } : {}),
    ...(o.lbClass !== undefined ? { loadBalancerClass: o.lbClass } : {}),
  });
  const findings: Finding[] = [
    ...inputs.warnings.map(
      (w): Finding => ({ code: 'config-warning', severity: 'warning', subject: `${w.kind}/${w.name}`, message: formatDiagnostic(w), fix: 'See the message.' }),
    ),
    ...diagnose({
      config: state.config,
      nodes: state.nodes,
      nodesKnown: state.nodesKnown,
      plan: state.plan,
      pools: state.pools,
      observed,
      routers,
      ...(o.routerId !== undefined ? { defaultRouterId: o.routerId } : {}),
    }),
  ];
  if (o.output === 'json') process.stdout.write(JSON.stringify(findingsToJSON(findings), null, 2) + '\n');
  else process.stdout.write(formatFindings(findings, sources.join('; ')));
  return exitCode(findings, o.failOn);
}
