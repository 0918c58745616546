// Benchmark 2, churn latency: metallb-ts standalone with an empty folder and an Established
// session to a BIRD receiver; S Services are added one by one (one file each, written at a
// steady rate, atomically: temp file + rename), then deleted one by one at the same rate.
// Latency per Service = from the rename (unlink) until the UPDATE announcing (withdrawing) its
// /32 arrives at the receiver (tcpdump timestamps inside the receiver's namespace; BIRD's
// own route count is also checked to reach S and then 0).
//
// Reference (--impl gobgp): the same churn driven through GoBGP's CLI
// (`gobgp global rib add|del PREFIX`), timed from the CLI invocation.

import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from './lib/netns.ts';
import { serviceYaml } from './lib/metallbts.ts';
import { startCapture } from './lib/pcap.ts';
import { BenchError, isAborted, nowEpoch, sleep, waitFor } from './lib/proc.ts';
import { hostAddr } from './lib/routes.ts';
import { makeReceiver, makeSender } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { emitJson, fmtSpread, log, percentile, printTable, putSpread } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';
import type { Gobgp } from './lib/gobgp.ts';

export interface ChurnOptions {
  services: number;
  /** Services added (then deleted) per second. */
  rate: number;
  runs: number;
  impls?: Impl[];
  keep?: boolean;
}

export interface ChurnPhase {
  p50: number;
  p99: number;
  max: number;
  /** Services whose route never showed up (add) / never went away (delete) on the wire. */
  missing: number;
}

export interface ChurnRun {
  add: ChurnPhase;
  del: ChurnPhase;
}

function phase(lat: (number | undefined)[]): ChurnPhase {
  const got = lat.filter((x): x is number => x !== undefined);
  return {
    p50: percentile(got, 50) ?? NaN,
    p99: percentile(got, 99) ?? NaN,
    max: got.length > 0 ? Math.max(...got) : NaN,
    missing: lat.length - got.length,
  };
}

/** Calls `act(i)` for i in 0..count-1 at `rate` per second (absolute schedule, no drift). */
async function paced(count: number, rate: number, act: (i: number) => Promise<void> | void): Promise<void> {
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    await act(i);
  }
}

export async function churnRun(impl: Impl, services: number, rate: number, keep = false): Promise<ChurnRun> {
  if (impl === 'bird') throw new BenchError('churn has no BIRD reference (it would need a config reload per route)');
  const lab = await createLab({ keepDir: keep });
  try {
    const cap = await startCapture(lab.rxNs, join(lab.dir, 'bgp.pcap'), join(lab.dir, 'tcpdump.log'));
    const sender = makeSender(impl, { lab, n: 0, poolSize: services });
    await sender.start();
    const rx = makeReceiver(lab);
    await rx.start();
    await waitFor(`${impl} session Established`, async () => ((await rx.protocol('tx0')).established ? true : undefined), 120000, 20);
    await sleep(1000);
    const tAdd: number[] = new Array<number>(services).fill(NaN);
    const tDel: number[] = new Array<number>(services).fill(NaN);
    const m = sender.metallb;
    const g: Gobgp | undefined = sender.gobgp;
    const add = async (i: number): Promise<void> => {
      if (m) {
        const f = m.serviceFile(i);
        const tmp = `${f}.tmp`;
        writeFileSync(tmp, serviceYaml(i));
        tAdd[i] = nowEpoch();
        renameSync(tmp, f);
      } else if (g) {
        tAdd[i] = nowEpoch();
        await g.gobgp(['global', 'rib', 'add', '-a', 'ipv4', `${hostAddr(i)}/32`, 'nexthop', lab.txAddr]);
      }
    };
    const del = async (i: number): Promise<void> => {
      if (m) {
        tDel[i] = nowEpoch();
        unlinkSync(m.serviceFile(i));
      } else if (g) {
        tDel[i] = nowEpoch();
        await g.gobgp(['global', 'rib', 'del', '-a', 'ipv4', `${hostAddr(i)}/32`]);
      }
    };
    await paced(services, rate, add);
    await waitFor(`BIRD to hold ${services} routes`, async () => ((await rx.protocol('tx0')).imported >= services ? true : undefined), 120000, 50);
    await sleep(1000);
    await paced(services, rate, del);
    await waitFor('BIRD to hold 0 routes', async () => ((await rx.protocol('tx0')).imported === 0 ? true : undefined), 120000, 50);
    const pcap = await cap.stop(300);
    await sender.stop();
    await rx.stop();

    const index = new Map<string, number>();
    for (let i = 0; i < services; i++) index.set(`${hostAddr(i)}/32`, i);
    const addLat: (number | undefined)[] = new Array<number | undefined>(services).fill(undefined);
    const delLat: (number | undefined)[] = new Array<number | undefined>(services).fill(undefined);
    for (const msg of pcap.messages) {
      if (msg.src !== lab.txAddr || msg.type !== 'update') continue;
      for (const p of msg.announced ?? []) {
        const i = index.get(p);
        if (i === undefined) continue;
        const t0 = tAdd[i] ?? NaN;
        if (addLat[i] === undefined && msg.t >= t0 - 0.001) addLat[i] = Math.max(0, msg.t - t0);
      }
      for (const p of msg.withdrawn ?? []) {
        const i = index.get(p);
        if (i === undefined) continue;
        const t0 = tDel[i] ?? NaN;
        if (delLat[i] === undefined && msg.t >= t0 - 0.001) delLat[i] = Math.max(0, msg.t - t0);
      }
    }
    return { add: phase(addLat), del: phase(delLat) };
  } finally {
    await lab.destroy();
  }
}

export async function churn(o: ChurnOptions): Promise<BenchResult[]> {
  const impls = (o.impls ?? ['metallb-ts', 'gobgp']).filter((i) => i !== 'bird');
  const results: BenchResult[] = [];
  for (const impl of impls) {
    const runs: ChurnRun[] = [];
    for (let i = 0; i < o.runs; i++) {
      log(`churn services=${o.services} rate=${o.rate}/s impl=${impl} run ${i + 1}/${o.runs}`);
      try {
        const r = await churnRun(impl, o.services, o.rate, o.keep);
        log(`  add p50 ${(r.add.p50 * 1000).toFixed(1)} ms p99 ${(r.add.p99 * 1000).toFixed(1)} ms max ${(r.add.max * 1000).toFixed(1)} ms; ` +
          `delete p50 ${(r.del.p50 * 1000).toFixed(1)} ms p99 ${(r.del.p99 * 1000).toFixed(1)} ms max ${(r.del.max * 1000).toFixed(1)} ms; missing ${r.add.missing}/${r.del.missing}`);
        runs.push(r);
      } catch (e) {
        if (isAborted()) throw e;
        log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const ph of ['add', 'delete'] as const) {
      const sel = (r: ChurnRun): ChurnPhase => (ph === 'add' ? r.add : r.del);
      const res: BenchResult = { bench: 'churn', n: o.services, impl, phase: ph, rate: o.rate, runs: runs.length };
      if (runs.length === 0) res['error'] = 'every run failed';
      putSpread(res, 'p50ms', runs.map((r) => sel(r).p50 * 1000), 1);
      putSpread(res, 'p99ms', runs.map((r) => sel(r).p99 * 1000), 1);
      putSpread(res, 'maxms', runs.map((r) => sel(r).max * 1000), 1);
      res['seconds'] = typeof res['p50ms'] === 'number' ? res['p50ms'] / 1000 : null;
      res['missing'] = runs.reduce((a, r) => a + sel(r).missing, 0);
      emitJson(res);
      results.push(res);
    }
  }
  printTable(
    `Churn: ${o.services} Services added one by one at ${o.rate}/s, then deleted (latency to the receiver, ms; median (min–max) of ${o.runs} runs)`,
    ['impl', 'phase', 'p50 ms', 'p99 ms', 'max ms', 'missing'],
    results.map((r) => [r.impl, r['phase'], fmtSpread(r, 'p50ms'), fmtSpread(r, 'p99ms'), fmtSpread(r, 'maxms'), r['missing']]),
  );
  return results;
}
