// `metallb-ts doctor`: findings about a configuration (and, when given, what a running node
// observed) that no validation catches - topology mistakes from the seed documents and
// operational problems. Pure data; the checks are in checks.ts, the I/O in observe.ts.

import type { Config } from '../config/types.ts';
import type { Node } from '../model/objects.ts';
import type { PlanOutput } from '../planner/types.ts';
import type { RouterConfig } from './routerconf.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier, e.g. `ibgp-chain` (documented in docs/operator.md). */
  code: string;
  severity: Severity;
  /** What it is about, e.g. `BGPPeer/romana (node n1)`. */
  subject: string;
  message: string;
  /** Suggested fix or what to check next. */
  fix: string;
}

/** A BGP session as a running node reported it (its /status). */
export interface ObservedSession {
  node: string;
  /** BGPPeer name. */
  peer: string;
  state: string;
  lastError: string | null;
  peerRouterId: string | null;
}

/** A TCP socket listening on the BGP port on the machine doctor runs on. */
export interface Listener {
  address: string;
  port: number;
  pid: number | null;
  /** Process name (/proc/PID/comm), when known. */
  process: string | null;
}

export interface Observed {
  /** Live sessions, from `--status URL` (absent: not observed). */
  sessions?: ObservedSession[];
  /** Listeners on TCP port 179 on this machine, from `--local-checks` (absent: not checked). */
  listeners?: Listener[];
}

export interface PoolUsage {
  pool: string;
  inUse: number;
  total: number;
  /** Per family and Services holding an address from the pool (MetalLB's per-family gauges). */
  ipv4InUse?: number;
  ipv6InUse?: number;
  ipv4Total?: number;
  ipv6Total?: number;
  services?: number;
}

export interface DoctorInput {
  config: Config;
  /** The nodes as the planner saw them. */
  nodes: Node[];
  /** False when the input had no Node objects and one was made up (selector checks skipped). */
  nodesKnown: boolean;
  /** planAll over every node (sessions with their node addresses). */
  plan: PlanOutput;
  pools: PoolUsage[];
  /** Router ID used when neither the BGPPeer nor a node IPv4 address gives one. */
  defaultRouterId?: string;
  observed?: Observed;
  /** Configurations of the routers/route publishers we peer with (BIRD or FRR), when given. */
  routers?: RouterConfig[];
}
