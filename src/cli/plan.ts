// `metallb-ts plan -f PATH [-f PATH ...] [-o table|json] [--node NAME] [--node-address IP]`
//
// Dry run: which IP each Service gets (and why not), and exactly which routes every router
// receives, before anything is applied. Exit codes: 0 ok, 1 invalid configuration (errors are
// printed like `validate`), 2 usage.

import { readInputs } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import type { Config } from '../config/types.ts';
import { tryParseIP } from '../ip/index.ts';
import type { Node } from '../model/objects.ts';
import { allocate } from '../allocator/index.ts';
import { previousFromStatus } from '../doctor/state.ts';
import { applyHostFacts, formatPlanTable, planAll, planToJSON } from '../planner/index.ts';
import { readHostFacts } from './plan-host.ts';
import { parseArgs, pick, UsageError } from './args.ts';
import { hasUnreadableInput } from './common.ts';

export const PLAN_USAGE = `usage: metallb-ts plan -f PATH [-f PATH ...] [-o table|json] [--node NAME] [--node-address IP] [--load-balancer-class NAME]

Shows which IP each LoadBalancer Service gets and exactly which routes every BGP peer receives.
PATH (file or folder of YAML/JSON) holds metallb.io objects or a legacy ConfigMap, Services and
optionally Nodes, EndpointSlices and Namespaces.

options:
  -f, --filename PATH   input file or folder (repeatable)
  -o, --output FORMAT   table (default) or json
  --node NAME           with no Node objects: the single node's name (default "local");
                        with Node objects: only show what this node announces
  --node-address IP     with no Node objects: the node's address (default 127.0.0.1)
  --load-balancer-class NAME
                        our loadBalancerClass (default: serve Services without a class)
  --this-host           plan runs on the node itself (--node, or the only node): each session's
                        local address is asked from this host's kernel, so the next hop is the
                        one the router will receive (a peer behind a second uplink gets that
                        interface's address; a sourceAddress not configured here is not used,
                        with a warning)
  --diff                compare the current state with the proposed one (-f): per router the
                        routes added (+), removed (-) and changed (~), and the Services whose IPs
                        change; nothing is applied
  --current PATH        with --diff: the current state, a folder or file (repeatable)
  --kubeconfig FILE     with --diff: the current state is the live cluster (read only)
  --full                with --diff: -f is the whole proposed state (objects not in it are
                        deleted); default: -f objects are added to / replace the current ones
  -h, --help            show this help

A Service without an EndpointSlice in the input is assumed to have a ready endpoint on every
node ("endpointsAssumed": true). Services carrying status.loadBalancer.ingress keep those IPs
when still valid.

exit status: 0 plan printed (allocation failures are part of the plan), 1 invalid configuration
(errors printed like validate), 2 usage error or unreadable input
`;

interface Options {
  paths: string[];
  diff?: boolean;
  current: string[];
  kubeconfig?: string;
  full?: boolean;
  output: 'table' | 'json';
  node?: string;
  nodeAddress?: string;
  lbClass?: string;
  thisHost?: boolean;
}

function parsePlanArgs(argv: string[]): Options | { error: string } | 'help' {
  const p = parseArgs(argv, pick('--filename', '--output', '--node', '--node-address', '--load-balancer-class', '--diff', '--current', '--kubeconfig', '--full', '--this-host'));
  if (p instanceof UsageError) return { error: p.message };
  if (p.help) return 'help';
  const o: Options = { paths: p.lists.get('--filename') ?? [], output: 'table', current: p.lists.get('--current') ?? [] };
  if (p.flags.has('--diff')) o.diff = true;
  if (p.flags.has('--full')) o.full = true;
  if (p.flags.has('--this-host')) o.thisHost = true;
  const kc = p.values.get('--kubeconfig');
  if (kc !== undefined) o.kubeconfig = kc;
  if (o.paths.some((f) => f === '')) return { error: '-f needs a path' };
  const output = p.values.get('--output');
  if (output !== undefined) {
    if (output !== 'table' && output !== 'json') return { error: '--output must be "table" or "json"' };
    o.output = output;
  }
  const node = p.values.get('--node');
  if (node !== undefined) {
    if (!node) return { error: '--node needs a name' };
    o.node = node;
  }
  const addr = p.values.get('--node-address');
  if (addr !== undefined) {
    if (!tryParseIP(addr)) return { error: `--node-address needs an IP address${addr ? `, got "${addr}"` : ''}` };
    o.nodeAddress = addr;
  }
  const lbClass = p.values.get('--load-balancer-class');
  if (lbClass !== undefined) {
    if (!lbClass) return { error: '--load-balancer-class needs a name' };
    o.lbClass = lbClass;
  }
  if (o.paths.length === 0) return { error: 'at least one -f PATH is required' };
  if ((o.current.length > 0 || o.kubeconfig !== undefined || o.full) && !o.diff) return { error: '--current, --kubeconfig and --full go with --diff' };
  if (o.diff && o.current.length === 0 && o.kubeconfig === undefined) return { error: '--diff needs the current state: --current PATH or --kubeconfig FILE' };
  if (o.current.length > 0 && o.kubeconfig !== undefined) return { error: '--current and --kubeconfig are exclusive' };
  return o;
}

const EMPTY_CONFIG: Config = { pools: [], peers: [], bgpAdvertisements: [], l2Advertisements: [], bfdProfiles: [], communityAliases: {} };

// previousFromStatus: shared with doctor and plan --diff
export { previousFromStatus } from '../doctor/state.ts';

export async function run(argv: string[]): Promise<number> {
  const opts = parsePlanArgs(argv);
  if (typeof opts === 'object' && 'paths' in opts && opts.diff) {
    const { runDiff } = await import('./plan-diff.ts');
    return runDiff({
      paths: opts.paths,
      current: opts.current,
      full: opts.full === true,
      output: opts.output,
      ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.node !== undefined ? { node: opts.node } : {}),
      ...(opts.nodeAddress !== undefined ? { nodeAddress: opts.nodeAddress } : {}),
      ...(opts.lbClass !== undefined ? { loadBalancerClass: opts.lbClass } : {}),
    });
  }
  try {
    return await runInner(argv);
  } catch (err) {
    // as runGuarded: never a stack trace, one line, exit 2
    process.stderr.write(`metallb-ts plan: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

async function runInner(argv: string[]): Promise<number> {
  const opts = parsePlanArgs(argv);
  if (opts === 'help') {
    process.stdout.write(PLAN_USAGE);
    return 0;
  }
  if ('error' in opts) {
    process.stderr.write(`metallb-ts plan: ${opts.error}\n${PLAN_USAGE}`);
    return 2;
  }
  const inputs = readInputs(opts.paths);
  // errors first, then warnings, each line exactly as `metallb-ts validate` prints it
  for (const e of inputs.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  for (const w of inputs.warnings) process.stderr.write(`${formatDiagnostic({ ...w, message: `warning: ${w.message}` })}\n`);
  if (inputs.errors.length > 0) {
    if (hasUnreadableInput(inputs.errors)) return 2;
    const n = inputs.errors.length;
    process.stderr.write(`metallb-ts plan: ${n} error${n === 1 ? '' : 's'} in the configuration\n`);
    return 1;
  }
  if (inputs.objects.length === 0) {
    process.stderr.write(`metallb-ts plan: warning: no objects found in ${opts.paths.join(', ')}\n`);
  }
  const config = inputs.config ?? EMPTY_CONFIG;
  let nodes: Node[] = inputs.nodes;
  let onlyNode: string | undefined;
  if (nodes.length === 0) {
    const name = opts.node ?? 'local';
    nodes = [
      {
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { addresses: [{ type: 'InternalIP', address: opts.nodeAddress ?? '127.0.0.1' }] },
      },
    ];
  } else if (opts.node !== undefined) {
    if (!nodes.some((n) => n.metadata.name === opts.node)) {
      process.stderr.write(`metallb-ts plan: --node ${opts.node}: no Node object of that name in the input\n`);
      return 2;
    }
    onlyNode = opts.node;
  }

  const allocInput: Parameters<typeof allocate>[0] = {
    config,
    services: inputs.services,
    namespaces: inputs.namespaces,
    previous: previousFromStatus(inputs.services),
  };
  if (opts.lbClass !== undefined) allocInput.loadBalancerClass = opts.lbClass;
  const alloc = allocate(allocInput);
  const errors: Record<string, string> = {};
  for (const r of alloc.results) if (r.error !== undefined) errors[r.key] = r.error;

  const planInput: Parameters<typeof planAll>[0] = {
    config,
    services: inputs.services,
    assignments: alloc.assignments,
    nodes,
    endpointSlices: inputs.endpointSlices,
    namespaces: inputs.namespaces,
    assumeEndpoints: true,
    errors,
  };
  if (opts.lbClass !== undefined) planInput.loadBalancerClass = opts.lbClass;
  const plan = planAll(planInput);
  if (onlyNode !== undefined) {
    plan.bgp = plan.bgp.filter((s) => s.node === onlyNode);
    plan.layer2 = plan.layer2.filter((l) => l.node === onlyNode);
  }
  if (opts.thisHost) {
    const here = onlyNode ?? (nodes.length === 1 ? nodes[0]?.metadata.name : undefined);
    if (here === undefined) {
      process.stderr.write('metallb-ts plan: --this-host: several nodes in the input: say which one this host is with --node NAME\n');
      return 2;
    }
    applyHostFacts(plan.bgp, await readHostFacts(here, plan.bgp));
  }
  if (opts.output === 'json') process.stdout.write(JSON.stringify(planToJSON(plan), null, 2) + '\n');
  else process.stdout.write(formatPlanTable(plan));
  return 0;
}
