// MetalLB's status kinds, written by the controller and the speakers:
//   ConfigurationState `controller` / `speaker-<node>`: result Valid|Invalid, errorSummary,
//   conditions; IPAddressPool status counts.

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

/**
 * `warnings`: the warnings that carry a code (a pool or peer an advertisement names that does
 * not exist, a missing Secret, routes of a family a session cannot carry...) are told in the
 * condition's message; the configuration stays Valid.
 */
export function configurationStateStatus(errors: readonly Diagnostic[], previous?: ConfigurationStateStatus, warnings: readonly Diagnostic[] = []): ConfigurationStateStatus {
  const valid = errors.length === 0;
  const summary = formatDiagnostics(errors);
  const told = warnings.filter((w) => w.code !== undefined);
  const warningText = told.length > 0 ? `; warnings: ${formatDiagnostics(told)}` : '';
  const prevCond = previous?.conditions?.find((c) => c.type === 'ConfigurationValid');
  const status = valid ? 'True' : 'False';
  return {
    result: valid ? 'Valid' : 'Invalid',
    errorSummary: summary,
    conditions: [
      {
        type: 'ConfigurationValid',
        status,
        reason: valid ? 'ConfigurationValid' : 'ConfigurationInvalid',
        message: valid ? `the configuration is valid and in use${warningText}` : `the configuration is invalid; the last valid one stays in use: ${summary}${warningText}`,
        lastTransitionTime: prevCond && prevCond.status === status ? prevCond.lastTransitionTime : kubeTime(new Date()),
      },
    ],
  };
}

/**
 * Creates (if missing) the ConfigurationState and writes its status through /status. `known` is
 * the status this process last wrote or read (the return value of the previous call): when the
 * new status is the same nothing is sent at all, so a steady state costs no request.
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
  if (known !== undefined) {
    const prev = JSON.parse(known) as ConfigurationStateStatus;
    const next = configurationStateStatus(errors, prev, warnings);
    if (JSON.stringify(next) === known) return known;
  }
  let cur = await client.get<KubeObject & { status?: ConfigurationStateStatus }>(R.configurationstates, namespace, name);
  if (!cur) {
    try {
      cur = await client.create<KubeObject & { status?: ConfigurationStateStatus }>(R.configurationstates, {
        metadata: { name, namespace, labels },
        spec: {},
      });
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, 'could not create ConfigurationState');
      throw err;
    }
  }
  const status = configurationStateStatus(errors, cur.status, warnings);
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
