// MetalLB's status kinds, written by the controller and the speakers:
//   ConfigurationState `controller` / `speaker-<node>`: result Valid|Invalid, errorSummary,
//   conditions of MetalLB's types and MetalLB's labels; IPAddressPool status counts.

import type { Logger } from 'pino';
import type { Diagnostic } from '../config/types.ts';
import { R, isNotFound, kubeTime } from './client.ts';
import type { KubeClient, KubeObject } from './client.ts';

export interface ConfigurationStateStatus {
  result: 'Valid' | 'Invalid' | 'Unknown';
  errorSummary: string;
  conditions: { type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime: string }[];
}

/** `FILE:LINE: Kind/name: field: message` lines, as `validate` prints them (no file for API objects). */
export function formatDiagnostics(diags: readonly Diagnostic[]): string {
  return diags
    .map((d) => {
      const obj = d.kind ? `${d.kind}/${d.name}: ` : '';
      const field = d.field ? `${d.field}: ` : '';
      return `${obj}${field}${d.message}`;
    })
    .join('\n');
}

/** MetalLB's condition types, reasons and labels on ConfigurationState objects. */
export const CONDITION_CONFIG = 'configReconcilerValid';
export const CONDITION_POOL = 'poolReconcilerValid';
export const REASON_OK = 'Reconciled';
export const REASON_CONFIG_ERROR = 'ConfigurationError';
export const LABEL_COMPONENT_TYPE = 'metallb.io/component-type';
export const LABEL_NODE_NAME = 'metallb.io/node-name';

/**
 * MetalLB's labels for a ConfigurationState: `metallb.io/component-type: controller` on
 * `controller`, `metallb.io/component-type: speaker` + `metallb.io/node-name: NODE` on
 * `speaker-NODE` (selectors and alerts written for MetalLB find ours).
 */
export function configurationStateLabels(name: string): Record<string, string> {
  if (name.startsWith('speaker-')) return { [LABEL_COMPONENT_TYPE]: 'speaker', [LABEL_NODE_NAME]: name.slice('speaker-'.length) };
  return { [LABEL_COMPONENT_TYPE]: 'controller' };
}

type Condition = ConfigurationStateStatus['conditions'][number];

function condition(type: string, errors: readonly Diagnostic[], warningText: string, previous?: ConfigurationStateStatus): Condition {
  const ok = errors.length === 0;
  const status = ok ? 'True' : 'False';
  const prev = previous?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    reason: ok ? REASON_OK : REASON_CONFIG_ERROR,
    // metav1.Condition caps the message at 32768 characters
    message: (ok ? `the configuration is valid and in use${warningText}` : `the configuration is invalid; the last valid one stays in use: ${formatDiagnostics(errors)}${warningText}`).slice(0, 32768),
    // stable while the status holds, so a steady state writes nothing
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : kubeTime(new Date()),
  };
}

/**
 * The status MetalLB's components write: `result` Valid/Invalid, `errorSummary` (one
 * `Kind/name: field: message` line per error), and conditions of MetalLB's types:
 * `configReconcilerValid` and, with `pools` (the controller), `poolReconcilerValid` (the
 * IPAddressPool errors), each True/`Reconciled` or False/`ConfigurationError`.
 * `warnings`: the warnings that carry a code (a pool or peer an advertisement names that does
 * not exist, a missing Secret, routes of a family a session cannot carry...) are told in the
 * conditions' messages; the configuration stays Valid.
 */
export function configurationStateStatus(
  errors: readonly Diagnostic[],
  previous?: ConfigurationStateStatus,
  warnings: readonly Diagnostic[] = [],
  opts: { pools?: boolean } = {},
): ConfigurationStateStatus {
  const told = warnings.filter((w) => w.code !== undefined);
  const warningText = told.length > 0 ? `; warnings: ${formatDiagnostics(told)}` : '';
  const conditions = [condition(CONDITION_CONFIG, errors, warningText, previous)];
  if (opts.pools) {
    const poolErrors = errors.filter((d) => d.kind === 'IPAddressPool');
    conditions.push(condition(CONDITION_POOL, poolErrors, '', previous));
  }
  return {
    result: errors.length === 0 ? 'Valid' : 'Invalid',
    errorSummary: formatDiagnostics(errors),
    conditions,
  };
}

/**
 * Creates (if missing) the ConfigurationState and writes its status through /status. `known` is
 * the status this process last wrote or read (the return value of the previous call): when the
 * new status is the same nothing is sent at all, so a steady state costs no request. MetalLB's
 * labels (configurationStateLabels) are added to `labels` and restored when missing.
 */
export async function publishConfigurationState(
  client: KubeClient,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  errors: readonly Diagnostic[],
  logger?: Logger,
  warnings: readonly Diagnostic[] = [],
  known?: string,
): Promise<string> {
  const opts = { pools: name === 'controller' };
  if (known !== undefined) {
    const prev = JSON.parse(known) as ConfigurationStateStatus;
    const next = configurationStateStatus(errors, prev, warnings, opts);
    if (JSON.stringify(next) === known) return known;
  }
  const want = { ...labels, ...configurationStateLabels(name) };
  let cur = await client.get<KubeObject & { status?: ConfigurationStateStatus }>(R.configurationstates, namespace, name);
  if (!cur) {
    try {
      cur = await client.create<KubeObject & { status?: ConfigurationStateStatus }>(R.configurationstates, {
        metadata: { name, namespace, labels: want },
        spec: {},
      });
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, 'could not create ConfigurationState');
      throw err;
    }
  } else if (Object.entries(want).some(([k, v]) => cur?.metadata.labels?.[k] !== v)) {
    await client.patch(R.configurationstates, namespace, name, { metadata: { labels: want } });
  }
  const status = configurationStateStatus(errors, cur.status, warnings, opts);
  const text = JSON.stringify(status);
  if (cur.status && JSON.stringify(cur.status) === text) return text;
  try {
    await client.patch(R.configurationstates, namespace, name, { status }, { status: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return text;
}

export interface PoolCounts {
  assignedIPv4: number;
  assignedIPv6: number;
  availableIPv4: number;
  availableIPv6: number;
}

export function clampCount(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v < 0n ? 0n : v);
}
