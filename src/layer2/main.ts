// Runs one Layer2Agent from a JSON file (used by the integration tests to run a "node" per
// network namespace; the product wires the agent into `standalone` and the Kubernetes speaker).
//
//   node --import tsx src/layer2/main.ts --config node.json
//
// node.json:
//   { "node": "n1", "secret": "at-least-16-bytes", "bind": { "address": "10.98.0.1", "port": 7946 },
//     "members": [{ "name": "n1", "address": "10.98.0.1", "labels": {...} }, ...],
//     "services": [{ "ip": "10.99.0.50", "interfaces": [], "nodes": ["n1","n2"], "preferred": [...] }],
//     "partitionPolicy": "majority", "statusFile": "/tmp/x.json", "logLevel": "info",
//     "probeIntervalMs": 200, "deadAfterMs": 1000, "linkPollMs": 200,
//     "handoverTimeoutMs": 1500, "moveTimeoutMs": 3000 }
// SIGTERM/SIGINT stop it cleanly (peers are told it is leaving). Exit status 2 on a bad file.
// SIGHUP re-reads the file and applies its "services" and "members" (a node selector or
// candidate change, as the Kubernetes speaker applies a new plan; a file started without other
// members stays alone); the other fields need a restart. A bad file on SIGHUP is logged and the running configuration kept.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { Layer2Agent, type Layer2AgentOptions } from './agent.ts';
import type { MemberAddress } from './members.ts';
import type { ServiceEntry } from './ownership.ts';
import type { LabelSelector } from '../model/selector.ts';

const selectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }))
    .optional(),
});

const fileSchema = z.object({
  node: z.string().min(1),
  secret: z.string().min(16).optional(),
  bind: z.object({ address: z.string().optional(), port: z.number().int().min(1).max(65535).optional() }).optional(),
  members: z
    .array(z.object({ name: z.string().min(1), address: z.string(), port: z.number().int().min(1).max(65535).optional(), labels: z.record(z.string(), z.string()).optional() }))
    .default([]),
  services: z.array(
    z.object({
      ip: z.string(),
      interfaces: z.array(z.string()).default([]),
      nodes: z.array(z.string()).optional(),
      preferred: z.array(z.object({ weight: z.number().int().min(1).max(100), selector: selectorSchema })).optional(),
    }),
  ),
  partitionPolicy: z.enum(['majority', 'any-peer', 'none']).optional(),
  statusFile: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  probeIntervalMs: z.number().int().min(10).optional(),
  deadAfterMs: z.number().int().min(50).optional(),
  linkPollMs: z.number().int().min(10).optional(),
  handoverTimeoutMs: z.number().int().min(0).optional(),
  moveTimeoutMs: z.number().int().min(0).optional(),
});

export type Layer2NodeFile = z.infer<typeof fileSchema>;

function fail(msg: string): never {
  process.stderr.write(`metallb-ts layer2: ${msg}\n`);
  process.exit(2);
}

export function parseNodeFile(text: string, name: string): Layer2NodeFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${name}: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`);
  }
  return r.data;
}

export function servicesFromFile(f: Layer2NodeFile): ServiceEntry[] {
  const labels = new Map<string, Record<string, string>>(f.members.map((m) => [m.name, m.labels ?? {}]));
  if (!labels.has(f.node)) labels.set(f.node, {});
  return f.services.map((s) => {
    const e: ServiceEntry = { ip: s.ip, interfaces: s.interfaces };
    const names = s.nodes ?? [...labels.keys()].sort();
    e.candidates = names.map((n) => ({ name: n, labels: labels.get(n) ?? {} }));
    if (s.preferred) e.preferred = s.preferred.map((p) => ({ weight: p.weight, selector: p.selector as LabelSelector }));
    return e;
  });
}

function memberAddresses(f: Layer2NodeFile): MemberAddress[] {
  return f.members.map((m) => ({ name: m.name, address: m.address, ...(m.port ? { port: m.port } : {}) }));
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--config');
  const path = i >= 0 ? argv[i + 1] : undefined;
  if (!path) fail('usage: main.ts --config FILE');
  let f: Layer2NodeFile;
  try {
    f = parseNodeFile(readFileSync(path, 'utf8'), path);
  } catch (e) {
    fail((e as Error).message);
  }
  const logger = pino({ level: f.logLevel, base: { node: f.node } });
  const registry = new Registry();
  const o: Layer2AgentOptions = { logger, nodeName: f.node, registry, members: memberAddresses(f) };
  if (f.secret) o.secret = f.secret;
  if (f.bind) o.bind = f.bind;
  if (f.partitionPolicy) o.partitionPolicy = f.partitionPolicy;
  if (f.probeIntervalMs) o.probeIntervalMs = f.probeIntervalMs;
  if (f.deadAfterMs) o.deadAfterMs = f.deadAfterMs;
  if (f.linkPollMs) o.linkPollMs = f.linkPollMs;
  if (f.handoverTimeoutMs !== undefined) o.handoverTimeoutMs = f.handoverTimeoutMs;
  if (f.moveTimeoutMs !== undefined) o.moveTimeoutMs = f.moveTimeoutMs;
  const agent = new Layer2Agent(o);
  const statusFile = f.statusFile;
  // Status + Prometheus text, rewritten on every change and every second (tests read it).
  const writeStatus = (): void => {
    if (!statusFile) return;
    const st = agent.status();
    void registry.metrics().then((metrics) => {
      try {
        writeFileSync(`${statusFile}.tmp`, JSON.stringify({ ...st, metrics }));
        renameSync(`${statusFile}.tmp`, statusFile);
      } catch (e) {
        logger.warn({ err: (e as Error).message }, 'cannot write status file');
      }
    });
  };
  setInterval(writeStatus, 1000).unref();
  agent.on('owners', writeStatus);
  agent.announcer.on('gained', writeStatus);
  agent.announcer.on('lost', writeStatus);
  try {
    await agent.start();
  } catch (e) {
    fail((e as Error).message);
  }
  agent.setServices(servicesFromFile(f));
  writeStatus();
  process.on('SIGHUP', () => {
    let next: Layer2NodeFile;
    try {
      next = parseNodeFile(readFileSync(path, 'utf8'), path);
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'layer2: reload failed, keeping the running configuration');
      return;
    }
    if (next.node !== f.node) logger.warn({ node: next.node }, 'layer2: reload cannot rename the node; restart instead');
    agent.setMembers(memberAddresses(next));
    agent.setServices(servicesFromFile({ ...next, node: f.node }));
    logger.info({ services: next.services.length, members: next.members.length }, 'layer2: configuration reloaded');
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // planned stop: the next owners answer first (handover), then this node stops
    agent.setLeaving(true);
    void agent
      .handoverDone()
      .then(() => agent.stop())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  void main(process.argv.slice(2));
}
