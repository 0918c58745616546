// Kubernetes Events (core/v1) with MetalLB's reasons. Best effort: a failed write is logged,
// never propagated (events must not block reconciliation).

import type { Logger } from 'pino';
import { R, kubeTime } from './client.ts';
import type { KubeClient, KubeObject } from './client.ts';

export const EventReason = {
  IPAllocated: 'IPAllocated',
  AllocationFailed: 'AllocationFailed',
  ClearAssignment: 'ClearAssignment',
  NodeAssigned: 'nodeAssigned',
  WithdrawAnnouncement: 'withdrawAnnouncement',
  ConfigInvalid: 'ConfigInvalid',
} as const;

export interface InvolvedObject {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export class EventRecorder {
  private seq = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly logger?: Logger,
  ) {}

  async emit(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const t = new Date();
    const ns = obj.namespace ?? 'default';
    const suffix = (BigInt(t.getTime()) * 1000000n + BigInt(this.seq++ % 1000000)).toString(16);
    const ev: KubeObject = {
      metadata: { name: `${obj.name}.${suffix}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion ?? 'v1',
        kind: obj.kind,
        name: obj.name,
        namespace: ns,
        ...(obj.uid ? { uid: obj.uid } : {}),
        ...(obj.resourceVersion ? { resourceVersion: obj.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: kubeTime(t),
      lastTimestamp: kubeTime(t),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
    try {
      await this.client.create(R.events, ev);
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message, reason, object: `${ns}/${obj.name}` }, 'could not record event');
    }
  }

  /** Event about a Service (the usual case). */
  service(svc: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.emit(
      {
        kind: 'Service',
        apiVersion: 'v1',
        name: svc.metadata.name,
        ...(svc.metadata.namespace ? { namespace: svc.metadata.namespace } : {}),
        ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
        ...(svc.metadata.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message,
    );
  }
}
