// `metallb-ts standalone`: allocator + planner + BGP speaker + Layer 2 announcer in one process, fed from a folder
// of manifests that is watched for changes. See docs/standalone.md.

import { basename, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { createLogger, isLogFormat, isLogLevel } from '../observability/logger.ts';
import type { LogFormat, LogLevel } from '../observability/logger.ts';
import { createMetrics, recordNodeStatus, recordPools } from '../observability/metrics.ts';
import { COUNT_STATUS_LISTS, METRICS_STATUS_LISTS } from '../observability/statuslists.ts';
import { parseListenAddress, startHttpServer } from '../observability/http.ts';
import type { RunningHttpServer } from '../observability/http.ts';
import { DEFAULT_DRAIN_PERIOD_MS, controlEndpoints } from './control.ts';
import { tryParseIP } from '../ip/index.ts';
import { parseGoDuration } from '../config/duration.ts';
import { Standalone } from '../standalone/runtime.ts';
import type { BgpDriver } from '../node/types.ts';
import { FolderWatcher } from '../standalone/watch.ts';
import { createDeps } from '../standalone/wire.ts';
import { parseArgs, parseRouteTable, pick, UsageError } from './args.ts';
import { useLeanHeap } from './heap.ts';

export const STANDALONE_USAGE = `usage: metallb-ts standalone -f DIR [-f DIR...] --node NAME [options]

Runs the allocator, planner, BGP speaker and Layer 2 (ARP/NDP) announcer on this machine
from a folder of manifests (IPAddressPool, BGPPeer, BGPAdvertisement, L2Advertisement, ...,
Services, optionally Nodes). The folder is watched: edits are applied within milliseconds.

Stopping (see docs/standalone.md "Restart, stop and drain"):
  SIGTERM/SIGINT  a restart: BGPPeers with enableGracefulRestart keep our routes (stale) until
                  the next start re-announces them; all other sessions are withdrawn. Exit 0.
                  With --withdraw-on-stop every route is withdrawn on every session.
  SIGHUP          re-reads the folder (as an edit does); the process keeps running.
  metallb-ts drain --stop   a real stop: routes re-advertised with GRACEFUL_SHUTDOWN (65535:0),
                  withdrawn after the drain period, then the process exits 0.

options:
  -f, --filename DIR      folder (or file) of YAML/JSON manifests; repeatable (required; --file works too)
  --node NAME             name of this node (required)
  --node-address IP       address of this node when the folder has no Node NAME (default 127.0.0.1)
  --state FILE            where assigned IPs are kept across restarts (default ./metallb-ts-state.json)
  --http-listen ADDR      /healthz /readyz /status /metrics (default 127.0.0.1:7472; "off" disables)
  --log-format json|text  JSON lines (default) or human-readable text
  --log-level LEVEL       fatal|error|warn|info|debug|trace (default info)
  --load-balancer-class C serve only Services with this loadBalancerClass
  --router-id IPV4        BGP identifier when a peer does not set routerID (default: the
                          --node-address if given and IPv4, else this host's first IPv4 address)
  --drain-period DURATION how long "metallb-ts drain" announces GRACEFUL_SHUTDOWN before
                          withdrawing (Go duration, default 30s)
  --withdraw-on-stop      SIGTERM/SIGINT withdraw every route even on graceful-restart peers
  --restart-marker FILE   graceful restart marker (default: the --state file + ".restart")
  --route-table ID        routing table for routes received over BGP (peers with a receive
                          policy; default 254 = main); see docs/routes-in.md
  -h, --help              this text
`;

export interface StandaloneArgs {
  paths: string[];
  node: string;
  nodeAddress: string;
  statePath: string;
  httpListen: string | null;
  logFormat: LogFormat;
  logLevel: LogLevel;
  loadBalancerClass?: string;
  routerId?: string;
  /** ms */
  drainPeriod: number;
  withdrawOnStop: boolean;
  restartMarker: string;
  /** Routing table for received routes (default main). */
  routeTable?: number;
}


/** Parses the command line; returns an error message for bad usage. */
export function parseStandaloneArgs(argv: string[]): StandaloneArgs | { help: true } | string {
  const p = parseArgs(
    argv,
    pick(
      '--filename',
      '--node',
      '--node-address',
      '--state',
      '--http-listen',
      '--log-format',
      '--log-level',
      '--load-balancer-class',
      '--router-id',
      '--drain-period',
      '--withdraw-on-stop',
      '--restart-marker',
      '--route-table',
    ),
  );
  if (p instanceof UsageError) return p.message;
  if (p.help) return { help: true };
  const v = p.values;
  const paths = p.lists.get('--filename') ?? [];
  const node = v.get('--node');
  const nodeAddress = v.get('--node-address') ?? '127.0.0.1';
  if (!tryParseIP(nodeAddress)) return `--node-address: "${nodeAddress}" is not an IP address`;
  const nodeAddressGiven = v.has('--node-address');
  const statePath = v.get('--state') ?? 'metallb-ts-state.json';
  let httpListen: string | null = v.get('--http-listen') ?? '127.0.0.1:7472';
  if (httpListen === 'off' || httpListen === '') httpListen = null;
  else {
    const l = parseListenAddress(httpListen);
    if (typeof l === 'string') return `--http-listen: ${l}`;
  }
  const logFormat = v.get('--log-format') ?? 'json';
  if (!isLogFormat(logFormat)) return `--log-format: want json or text, got "${logFormat}"`;
  const logLevel = v.get('--log-level') ?? 'info';
  if (!isLogLevel(logLevel)) return `--log-level: unknown level "${logLevel}"`;
  const lbClass = v.get('--load-balancer-class');
  const routerId = v.get('--router-id');
  if (routerId !== undefined && tryParseIP(routerId)?.family !== 4) return `--router-id: "${routerId}" is not an IPv4 address`;
  const dp = v.get('--drain-period');
  const drainPeriod = dp === undefined ? DEFAULT_DRAIN_PERIOD_MS : parseGoDuration(dp);
  if (drainPeriod === undefined) return `--drain-period: "${dp}" is not a duration (e.g. 30s, 2m)`;
  const withdrawOnStop = p.flags.has('--withdraw-on-stop');
  const restartMarker = v.get('--restart-marker');
  const table = parseRouteTable(v.get('--route-table'));
  if (typeof table === 'string') return table;
  if (paths.length === 0) return 'missing -f DIR';
  if (!node) return 'missing --node NAME';
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(node)) return `--node: "${node}" is not a valid node name`;
  for (const p of paths) if (!existsSync(p)) return `-f: ${p}: no such file or directory`;
  const out: StandaloneArgs = {
    paths,
    node,
    nodeAddress,
    statePath,
    httpListen,
    logFormat,
    logLevel,
    drainPeriod,
    withdrawOnStop,
    restartMarker: restartMarker ?? `${statePath}.restart`,
  };
  if (lbClass !== undefined) out.loadBalancerClass = lbClass;
  if (routerId !== undefined) out.routerId = routerId;
  else if (nodeAddressGiven && tryParseIP(nodeAddress)?.family === 4) out.routerId = nodeAddress;
  if (table !== undefined) out.routeTable = table;
  return out;
}

export interface RunHooks {
  /** Replaces the real BGP speaker (tests); the loader, allocator, planner and NodeAgent stay real. */
  bgp?: BgpDriver;
  /** Set false to run without Layer 2 (tests). Default true. */
  layer2?: boolean;
  /** Resolves when the process should stop (tests); default: SIGTERM / SIGINT. */
  stopSignal?: Promise<void>;
  onListening?: (url: string) => void;
}

export async function run(argv: string[], hooks: RunHooks = {}): Promise<number> {
  const parsed = parseStandaloneArgs(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`metallb-ts standalone: ${parsed}\n\n${STANDALONE_USAGE}`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(STANDALONE_USAGE);
    return 0;
  }
  const args = parsed;
  const logger = createLogger({ format: args.logFormat, level: args.logLevel, base: { node: args.node } });
  // signal handlers first, so that a SIGTERM during start-up still ends in a clean stop.
  // A signal is a restart (graceful-restart peers keep our routes) unless --withdraw-on-stop;
  // `metallb-ts drain --stop` asks for a real stop (withdraw: true).
  let requestStop: (how: { withdraw: boolean }) => void = () => undefined;
  const stop = new Promise<{ withdraw: boolean }>((resolveStop) => {
    requestStop = resolveStop;
    if (hooks.stopSignal) {
      void hooks.stopSignal.then(() => resolveStop({ withdraw: args.withdrawOnStop }));
      return;
    }
    let count = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      count++;
      if (count > 1) {
        logger.warn({ signal: sig }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      logger.info(
        { signal: sig },
        args.withdrawOnStop
          ? 'stopping: withdrawing routes (--withdraw-on-stop)'
          : 'stopping for a restart: graceful-restart peers keep our routes, the others are withdrawn',
      );
      resolveStop({ withdraw: args.withdrawOnStop });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const statePath = resolve(args.statePath);
  for (const p of args.paths) {
    if (statSync(p).isDirectory() && statePath.startsWith(resolve(p) + '/')) {
      process.stderr.write(`metallb-ts standalone: --state ${args.statePath}: the state file must be outside the manifest folder ${p}\n`);
      return 2;
    }
  }

  const metrics = createMetrics();
  const deps = createDeps({
    nodeName: args.node,
    logger,
    registry: metrics.registry,
    ...(args.routerId ? { routerId: args.routerId } : {}),
    ...(args.loadBalancerClass !== undefined ? { loadBalancerClass: args.loadBalancerClass } : {}),
    restartMarker: resolve(args.restartMarker),
    ...(args.routeTable !== undefined ? { routeTable: args.routeTable } : {}),
    ...(hooks.bgp ? { bgp: hooks.bgp } : {}),
    ...(hooks.layer2 === false ? { layer2: false } : {}),
  });
  const rt = new Standalone(
    {
      paths: args.paths,
      node: args.node,
      nodeAddress: args.nodeAddress,
      statePath,
      logger,
      // the state file is written right after the speaker has sent the new routes
      deferStateWrite: (write) => setImmediate(write),
      // ... on the thread pool: the fsync does not hold up the next reload
      backgroundStateWrite: true,
      ...(args.loadBalancerClass !== undefined ? { loadBalancerClass: args.loadBalancerClass } : {}),
    },
    deps,
  );
  let knownPeers = recordNodeStatus(metrics, { sessions: [] });
  const refreshMetrics = (): void => {
    // route lists counted only; every announcement (metallb_speaker_announced)
    const st = rt.status(METRICS_STATUS_LISTS);
    knownPeers = recordNodeStatus(metrics, st, knownPeers);
    recordPools(metrics, st.pools);
    metrics.configLoaded.set(st.ready ? 1 : 0);
    metrics.configStale.set(st.stale ? 1 : 0);
  };

  rt.start();
  // after the first read of the folder (fast), the heap stays close to the live data (src/cli/heap.ts)
  const heapFlags = useLeanHeap();
  if (heapFlags.length > 0) logger.debug({ v8: heapFlags }, 'V8 heap grows by at most 1.3x the live data from now on');
  // SIGHUP re-reads the folder (it used to end the process without withdrawing or Cease)
  const onHup = (): void => {
    logger.info({ signal: 'SIGHUP' }, 're-reading the folder');
    rt.reload();
  };
  process.on('SIGHUP', onHup);
  const stateBase = basename(statePath);
  const watcher = new FolderWatcher(args.paths, {
    debounceMs: 15,
    // a safety net: changes the watcher cannot see (a symlink's target, a folder not watched)
    sweepEveryMs: 60_000,
    ignore: (name) => name === stateBase || name.startsWith(`.${stateBase}.tmp-`),
    onChange: (change) => {
      rt.reload(change.sweep ? undefined : change.files);
    },
    onError: (err) => logger.warn({ err: err.message }, 'folder watch error'),
  });

  let http: RunningHttpServer | undefined;
  if (args.httpListen !== null) {
    const listen = parseListenAddress(args.httpListen);
    if (typeof listen === 'string') throw new Error(listen); // validated by parseStandaloneArgs
    try {
      http = await startHttpServer(listen, {
        ready: () => rt.ready(),
        status: (lists) => rt.status(lists),
        component: 'standalone',
        registry: metrics.registry,
        beforeMetrics: refreshMetrics,
        control: controlEndpoints(rt, () => rt.status(COUNT_STATUS_LISTS).sessions, args.drainPeriod, logger, requestStop),
      });
      logger.info({ url: http.url }, 'HTTP endpoints listening (/healthz /readyz /status /metrics)');
      hooks.onListening?.(http.url);
    } catch (e) {
      logger.fatal({ listen: args.httpListen }, `cannot listen for HTTP: ${(e as Error).message}`);
      process.off('SIGHUP', onHup);
      watcher.close();
      await rt.stop();
      return 1;
    }
  }

  const how = await stop;
  process.off('SIGHUP', onHup);
  watcher.close();
  try {
    // withdrawals normally take milliseconds; never hang the shutdown on a stuck peer
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      rt.stop(how).then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 5000))),
    ]);
    clearTimeout(timer);
    if (timedOut) logger.warn('speaker did not stop within 5 s: exiting anyway');
  } catch (e) {
    logger.error({ err: (e as Error).message }, 'error while stopping the speaker');
  }
  await http?.close();
  logger.info('stopped');
  logger.flush();
  return 0;
}
