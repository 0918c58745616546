// `metallb-ts plan --diff`: the current state (a folder, or the live cluster through a
// kubeconfig) against the same state with the proposed files applied (`-f`: objects added or
// replaced by kind/namespace/name; with --full the -f files are the whole proposed state).
// Prints per router the routes added, removed and changed, and the Services whose IP changes.

import { readInputs, parseInputs } from '../config/load.ts';
import type { InputSet } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import { readCluster } from '../doctor/cluster.ts';
import { clusterState } from '../doctor/state.ts';
import type { StateOptions } from '../doctor/state.ts';
import { diffPlans, formatPlanDiff } from '../planner/diff.ts';
import { planToJSON } from '../planner/index.ts';
import { hasUnreadableInput } from './common.ts';

export interface DiffOptions extends StateOptions {
  /** Proposed files (-f). */
  paths: string[];
  /** Current state: folders/files, or a kubeconfig. */
  current: string[];
  kubeconfig?: string;
  /** -f is the complete proposed state (objects missing from it are deleted). */
  full: boolean;
  output: 'table' | 'json';
}

type Raw = Record<string, unknown>;

function identity(o: Raw): string {
  const meta = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const group = typeof o.apiVersion === 'string' && o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${String(o.kind)}/${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
}

/** The current objects with the proposed ones added or replacing those of the same identity. */
function overlay(current: InputSet, proposed: InputSet, full: boolean): InputSet {
  const merged = new Map<string, Raw>();
  if (!full) for (const o of current.objects) merged.set(identity(o.object), o.object);
  for (const o of proposed.objects) merged.set(identity(o.object), o.object);
  return parseInputs([{ file: 'proposed', text: [...merged.values()].map((o) => JSON.stringify(o)).join('\n---\n') }]);
}

function report(what: string, inputs: InputSet): number | undefined {
  for (const e of inputs.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  if (inputs.errors.length === 0 && inputs.config) return undefined;
  if (hasUnreadableInput(inputs.errors)) return 2;
  process.stderr.write(`metallb-ts plan --diff: the ${what} configuration is invalid\n`);
  return 1;
}

export async function runDiff(o: DiffOptions): Promise<number> {
  let current: InputSet;
  if (o.kubeconfig !== undefined) {
    try {
      current = await readCluster(o.kubeconfig);
    } catch (e) {
      process.stderr.write(`metallb-ts plan --diff: cannot read the cluster: ${(e as Error).message}\n`);
      return 2;
    }
  } else current = readInputs(o.current);
  const bad = report('current', current);
  if (bad !== undefined) return bad;
  const proposedFiles = readInputs(o.paths);
  for (const e of proposedFiles.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  if (hasUnreadableInput(proposedFiles.errors)) return 2;
  const next = overlay(current, proposedFiles, o.full);
  const bad2 = report('proposed', next);
  if (bad2 !== undefined) return bad2;
  if (!current.config || !next.config) return 1;
  const stateOpts: StateOptions = {};
  if (o.node !== undefined) stateOpts.node = o.node;
  if (o.nodeAddress !== undefined) stateOpts.nodeAddress = o.nodeAddress;
  if (o.loadBalancerClass !== undefined) stateOpts.loadBalancerClass = o.loadBalancerClass;
  const before = clusterState(current, current.config, stateOpts);
  // the proposed state starts from what runs now: Services keep their current IPs where valid
  const after = clusterState(next, next.config, { ...stateOpts, previous: before.assignments });
  const d = diffPlans(planToJSON(before.plan), planToJSON(after.plan));
  if (o.output === 'json') process.stdout.write(JSON.stringify(d, null, 2) + '\n');
  else process.stdout.write(formatPlanDiff(d));
  return 0;
}
