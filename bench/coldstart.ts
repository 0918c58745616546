// Benchmark 6, cold start: the receiving BIRD is up and waiting; the sender process is started
// holding nothing in memory, and the clock runs from spawning it until BIRD's protocol stats show
// all N routes imported (polled every 10 ms).
//   metallb-ts   `metallb-ts standalone` on a folder of N Services (one file, as the other
//                benchmarks write it) and an existing state file assigning each its IP (a
//                restart): read + parse + allocate + plan + connect + send.
//   gobgp        gobgpd started, then the same N routes loaded with `gobgp mrt inject global`
//                (bench/lib/gobgp.ts), the session connecting meanwhile: the reference for
//                "a daemon that loads a table at start".
// Also: the sender's peak RSS (VmHWM) and RSS when BIRD held everything.

import { writeFileSync } from 'node:fs';
import { isAborted, memOf, nowEpoch, waitFor } from './lib/proc.ts';
import { createLab } from './lib/netns.ts';
import { hostAddr } from './lib/routes.ts';
import { makeReceiver, makeSender } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { emitJson, fmtSpread, log, printTable, putSpread } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

export const COLDSTART_IMPLS: Impl[] = ['metallb-ts', 'gobgp'];

export interface ColdStartOptions {
  sizes: number[];
  runs: number;
  impls: Impl[];
  keep?: boolean;
}

export interface ColdStartRun {
  seconds: number;
  peakMB: number;
  rssMB: number;
}

/** The state file a previous run would have left: bench/svc-i -> the i-th address, pool "bench". */
export function stateFileText(n: number): string {
  const assignments: Record<string, { ips: string[]; pool: string }> = {};
  for (let i = 0; i < n; i++) assignments[`bench/svc-${i}`] = { ips: [hostAddr(i)], pool: 'bench' };
  return JSON.stringify({ version: 1, assignments }, null, 2) + '\n';
}

export async function coldStartRun(impl: Impl, n: number, keep = false): Promise<ColdStartRun> {
  const lab = await createLab({ keepDir: keep });
  try {
    const rx = makeReceiver(lab);
    await rx.start();
    const sender = makeSender(impl, { lab, n });
    const m = sender.metallb;
    let t0: number;
    if (m) {
      m.writeFolder(n);
      writeFileSync(m.statePath, stateFileText(n));
      t0 = nowEpoch();
      await m.start(); // returns at /healthz; BIRD is polled below
    } else {
      t0 = nowEpoch();
      void sender.start().catch(() => undefined); // loads the routes while the session comes up
    }
    const t1 = await waitFor(
      `BIRD to hold ${n} routes from ${impl} after its start`,
      async () => ((await rx.protocol('tx0')).imported >= n ? nowEpoch() : undefined),
      900000,
      10,
    );
    const mem = memOf(sender.pid);
    await sender.stop();
    await rx.stop();
    return { seconds: t1 - t0, peakMB: mem?.hwmMB ?? 0, rssMB: mem?.rssMB ?? 0 };
  } finally {
    await lab.destroy();
  }
}

export async function coldStart(o: ColdStartOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const impls = o.impls.filter((i) => COLDSTART_IMPLS.includes(i));
  for (const n of o.sizes) {
    for (const impl of impls) {
      const runs: ColdStartRun[] = [];
      for (let i = 0; i < o.runs; i++) {
        log(`coldstart n=${n} impl=${impl} run ${i + 1}/${o.runs}`);
        try {
          const r = await coldStartRun(impl, n, o.keep);
          log(`  ${r.seconds.toFixed(2)} s to all routes at BIRD, RSS ${r.rssMB.toFixed(1)} MB (peak ${r.peakMB.toFixed(1)})`);
          runs.push(r);
        } catch (e) {
          if (isAborted()) throw e;
          log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const r: BenchResult = { bench: 'coldstart', n, impl, runs: runs.length };
      if (runs.length === 0) r['error'] = 'every run failed';
      putSpread(r, 'seconds', runs.map((x) => x.seconds), 3);
      putSpread(r, 'rssMB', runs.map((x) => x.rssMB), 1);
      putSpread(r, 'peakMB', runs.map((x) => x.peakMB), 1);
      emitJson(r);
      results.push(r);
    }
  }
  printTable(
    `Cold start (process start -> all N routes at BIRD; median (min–max) of ${o.runs} runs)`,
    ['impl', 'routes', 'seconds', 'RSS MB', 'peak RSS MB'],
    results.map((r) => [r.impl, r.n, fmtSpread(r, 'seconds'), fmtSpread(r, 'rssMB'), fmtSpread(r, 'peakMB')]),
  );
  return results;
}
