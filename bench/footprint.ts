// Benchmark 5, footprint: the sender's resident memory and idle CPU once it has delivered N
// routes over S sessions (one BIRD receiver with S passive protocols, one per receiver
// address). CPU% = (utime+stime ticks over the idle window) / window; RSS = VmRSS at the end of
// the window, peak = VmHWM. Default keepalive (the sender's own default timers).

import { createLab } from './lib/netns.ts';
import { CLK_TCK, cpuTicksOf, isAborted, memOf, sleep, waitFor } from './lib/proc.ts';
import { makeReceivers, makeSender } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { emitJson, fmtSpread, log, printTable, putSpread } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

export interface FootprintOptions {
  sizes: number[];
  sessions: number[];
  runs: number;
  /** Length of the idle measurement window, seconds. */
  idleSeconds: number;
  impls: Impl[];
  keep?: boolean;
}

export interface FootprintRun {
  rssMB: number;
  peakMB: number;
  cpuPct: number;
}

export async function footprintRun(impl: Impl, n: number, sessions: number, idleSeconds: number, keep = false): Promise<FootprintRun> {
  const lab = await createLab({ keepDir: keep, extraRx: sessions > 1 ? sessions : 0 });
  try {
    const receivers = sessions > 1 ? lab.rxExtra.slice(0, sessions) : [lab.rxAddr];
    const sender = makeSender(impl, { lab, n, receivers });
    await sender.start();
    const rxs = makeReceivers(lab, receivers);
    for (const rx of rxs) await rx.start();
    await waitFor(
      `${impl}: ${sessions} sessions with ${n} routes each at BIRD`,
      async () => {
        for (const rx of rxs) {
          const p = await rx.protocol('tx0');
          if (!p.established || p.imported < n) return undefined;
        }
        return true;
      },
      900000,
      n >= 50000 ? 500 : 100,
    );
    await sleep(2000); // settle (GC, post-send bookkeeping)
    const c0 = cpuTicksOf(sender.pid);
    const w0 = Date.now();
    await sleep(idleSeconds * 1000);
    const c1 = cpuTicksOf(sender.pid);
    const w1 = Date.now();
    const mem = memOf(sender.pid);
    await sender.stop();
    for (const rx of rxs) await rx.stop();
    if (c0 === undefined || c1 === undefined || !mem) throw new Error(`${impl} exited during the idle window`);
    return { rssMB: mem.rssMB, peakMB: mem.hwmMB, cpuPct: (((c1 - c0) / CLK_TCK) / ((w1 - w0) / 1000)) * 100 };
  } finally {
    await lab.destroy();
  }
}

export async function footprint(o: FootprintOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const sessions of o.sessions) {
    for (const n of o.sizes) {
      for (const impl of o.impls) {
        const runs: FootprintRun[] = [];
        for (let i = 0; i < o.runs; i++) {
          log(`footprint n=${n} sessions=${sessions} impl=${impl} run ${i + 1}/${o.runs}`);
          try {
            const r = await footprintRun(impl, n, sessions, o.idleSeconds, o.keep);
            log(`  RSS ${r.rssMB.toFixed(1)} MB (peak ${r.peakMB.toFixed(1)}), idle CPU ${r.cpuPct.toFixed(2)} %`);
            runs.push(r);
          } catch (e) {
            if (isAborted()) throw e;
            log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        const r: BenchResult = { bench: 'footprint', n, impl, sessions, idleSeconds: o.idleSeconds, runs: runs.length };
        if (runs.length === 0) r['error'] = 'every run failed';
        putSpread(r, 'rssMB', runs.map((x) => x.rssMB), 1);
        putSpread(r, 'peakMB', runs.map((x) => x.peakMB), 1);
        putSpread(r, 'cpuPct', runs.map((x) => x.cpuPct), 2);
        emitJson(r);
        results.push(r);
      }
    }
  }
  printTable(
    `Footprint (idle window ${o.idleSeconds} s; median (min–max) of ${o.runs} runs)`,
    ['impl', 'sessions', 'routes', 'RSS MB', 'peak RSS MB', 'idle CPU %'],
    results.map((r) => [r.impl, r['sessions'], r.n, fmtSpread(r, 'rssMB'), fmtSpread(r, 'peakMB'), fmtSpread(r, 'cpuPct')]),
  );
  return results;
}
