// BGPSessionState objects (frrk8s.metallb.io/v1beta1, as frr-k8s publishes them): one per node ×
// BGP session, in the speaker's namespace, labelled frrk8s.metallb.io/node, /peer, /vrf, with
// status {node, peer, vrf, bgpStatus, bfdStatus}. `kubectl get bgpsessionstates -A` shows
// NODE PEER VRF BGP BFD. Kept current from the speaker's session states and deleted when the
// session is removed from the configuration; on a rolling restart the next speaker adopts the
// objects it finds (the name is derived from node, peer and VRF), so nothing is re-created.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BGPSessionStateFields } from '../bgp/sessionstate.ts';
import type { SessionStateSource } from '../routes/extension.ts';
import { sessionStateOf } from '../routes/extension.ts';
import type { KubeClient, KubeObject } from './client.ts';
import { R, isConflict, isNotFound } from './client.ts';
import { Informer } from './informer.ts';

export const LABEL_FRR_NODE = 'frrk8s.metallb.io/node';
export const LABEL_FRR_PEER = 'frrk8s.metallb.io/peer';
export const LABEL_FRR_VRF = 'frrk8s.metallb.io/vrf';
/** Only on sessions to a port other than 179 (two sessions to one address differ by port). */
export const LABEL_PEER_PORT = 'metallb.io/peer-port';

/** One session to publish: the BGPSessionState fields plus the peer's TCP port. */
export interface PublishedSession extends BGPSessionStateFields {
  port: number;
}

interface StateObject extends KubeObject {
  status?: Partial<BGPSessionStateFields>;
}

export interface SessionStateSyncOptions {
  client: KubeClient;
  namespace: string;
  nodeName: string;
  logger: Logger;
  /** The speaker Pod (owner of the objects: they go away with it). */
  podName?: string;
  podUID?: string;
}

/** A label value for an address (label values cannot hold ':'). */
export function labelValue(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '').slice(0, 63);
}

/** Deterministic object name: `<node>-<5 chars>` from node, peer, VRF (and port when not 179). */
export function sessionStateName(node: string, peer: string, vrf: string, port = 179): string {
  const id = port === 179 ? `${node}|${peer}|${vrf}` : `${node}|${peer}|${vrf}|${port}`;
  const h = BigInt('0x' + createHash('sha256').update(id).digest('hex').slice(0, 12)).toString(36).slice(0, 5);
  return `${node.slice(0, 250)}-${h}`;
}

const keyOf = (peer: string, vrf: string, port: number): string => `${peer}|${vrf}|${port}`;

export class BGPSessionStateSync {
  private readonly inf: Informer<StateObject>;
  private wanted = new Map<string, PublishedSession>();
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Nothing is written (or deleted) before the first set(): a restart must not drop objects. */
  private known = false;

  constructor(private readonly o: SessionStateSyncOptions) {
    this.inf = new Informer<StateObject>(o.client, R.bgpsessionstates, {
      namespace: o.namespace,
      labelSelector: `${LABEL_FRR_NODE}=${labelValue(o.nodeName)}`,
      logger: o.logger,
    });
    // someone deleting or editing our objects: put them back
    this.inf.addHandler({ delete: () => this.kick(), update: () => this.kick() });
  }

  async start(): Promise<void> {
    this.inf.start();
    await this.inf.waitForSync();
    this.kick();
  }

  /** The sessions of this node now (the whole list: absent sessions lose their object). */
  set(sessions: readonly PublishedSession[]): void {
    const next = new Map<string, PublishedSession>();
    for (const s of sessions) next.set(keyOf(s.peer, s.vrf, s.port), s);
    this.wanted = next;
    this.known = true;
    this.kick();
  }

  /** Resolves when the objects match the last `set` (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.settled();
    await this.inf.stop();
  }

  private kick(): void {
    if (this.stopped || !this.known || !this.inf.hasSynced) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.sync();
        } catch (e) {
          this.o.logger.warn({ err: (e as Error).message }, 'BGPSessionState update failed; retrying');
          await new Promise((r) => setTimeout(r, 1000));
          this.again = true;
        }
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  private async sync(): Promise<void> {
    const { client, namespace: ns, nodeName: node } = this.o;
    const existing = new Map<string, StateObject>();
    for (const obj of this.inf.list()) {
      const st = obj.status ?? {};
      existing.set(keyOf(st.peer ?? '', st.vrf ?? '', Number(obj.metadata.labels?.[LABEL_PEER_PORT] ?? 179)), obj);
    }
    for (const [key, w] of this.wanted) {
      const cur = existing.get(key);
      existing.delete(key);
      const status: BGPSessionStateFields = { node: w.node, peer: w.peer, vrf: w.vrf, bgpStatus: w.bgpStatus, bfdStatus: w.bfdStatus };
      if (cur && JSON.stringify(cur.status ?? {}) === JSON.stringify(status)) continue;
      const name = cur?.metadata.name ?? sessionStateName(node, w.peer, w.vrf, w.port);
      if (!cur) {
        const owner =
          this.o.podName && this.o.podUID
            ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: this.o.podName, uid: this.o.podUID, controller: true, blockOwnerDeletion: false }] }
            : {};
        try {
          await client.create(R.bgpsessionstates, {
            apiVersion: 'frrk8s.metallb.io/v1beta1',
            kind: 'BGPSessionState',
            metadata: {
              name,
              namespace: ns,
              labels: {
                [LABEL_FRR_NODE]: labelValue(node),
                [LABEL_FRR_PEER]: labelValue(w.peer),
                [LABEL_FRR_VRF]: labelValue(w.vrf),
                ...(w.port === 179 ? {} : { [LABEL_PEER_PORT]: String(w.port) }),
              },
              ...owner,
            },
          });
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }
      await client.patch(R.bgpsessionstates, ns, name, { status }, { status: true });
    }
    for (const obj of existing.values()) {
      try {
        await client.delete(R.bgpsessionstates, ns, obj.metadata.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/**
 * The function that publishes the sessions the BGP driver reports now (call it on every session
 * state change; a session removed from the configuration is then absent and loses its object).
 */
export function sessionStatesPublisher(sync: BGPSessionStateSync, node: string, sessions: () => readonly SessionStateSource[]): () => void {
  return () => sync.set(sessions().map((s) => ({ ...sessionStateOf(node, s), port: s.peerPort })));
}
