// Metrics of the Kubernetes components: the shared MetalLB metric set (observability) plus the
// Kubernetes client counters MetalLB exports.

import { Counter } from 'prom-client';
import { createMetrics, recordPools } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { PoolFigures } from '../observability/metrics.ts';

export interface KubeMetrics extends Metrics {
  /** metallb_k8s_client_updates_total: object updates processed from the API server. */
  k8sUpdates: Counter;
  /** metallb_k8s_client_update_errors_total: reconciles that failed (and were retried). */
  k8sUpdateErrors: Counter;
  /** metallb_k8s_client_events_dropped_total{reason}: Events not written (queue_full, write_failed). */
  eventsDropped: Counter<'reason'>;
  recordPools(pools: readonly PoolFigures[]): void;
}

export function createKubeMetrics(opts: { processMetrics?: boolean } = {}): KubeMetrics {
  const m = createMetrics(opts);
  const k8sUpdates = new Counter({
    name: 'metallb_k8s_client_updates_total',
    help: 'Number of k8s object updates that have been processed',
    registers: [m.registry],
  });
  const k8sUpdateErrors = new Counter({
    name: 'metallb_k8s_client_update_errors_total',
    help: 'Number of k8s object updates that failed for some reason',
    registers: [m.registry],
  });
  const eventsDropped = new Counter({
    name: 'metallb_k8s_client_events_dropped_total',
    help: 'Number of Kubernetes Events not written: reason queue_full (the bounded event queue was full) or write_failed (the API server refused the write)',
    labelNames: ['reason'],
    registers: [m.registry],
  });
  return { ...m, k8sUpdates, k8sUpdateErrors, eventsDropped, recordPools: (pools) => recordPools(m, pools) };
}
