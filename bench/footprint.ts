// Benchmark 5, footprint: the sender's resident memory and idle CPU once it has delivered N
// routes over S sessions (one BIRD receiver with S passive protocols, one per receiver
// address). CPU% = (utime+stime ticks over the idle window) / window; RSS = VmRSS at the end of
// the window, peak = VmHWM. Default keepalive (the sender's own default timers). With --poll
// PATH (metallb-ts), PATH is fetched once a second during the idle window (an operator or a tool
// polling /status): the answer's size and the highest RSS seen after a poll are reported too.

import { createLab } from './lib/netns.ts';
import { CLK_TCK, cpuTicksOf, isAborted, memOf, sleep, waitFor } from './lib/proc.ts';
import { makeReceivers, makeSender } from './lib/senders.ts';
import type { Impl, Sender } from './lib/senders.ts';
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
  /** metallb-ts: GET this path once a second during the idle window (an operator polling /status). */
  poll?: string;
}

export interface FootprintRun {
  rssMB: number;
  peakMB: number;
  cpuPct: number;
  /** With poll: requests answered during the idle window, size of the last answer, highest RSS seen after one. */
  polls?: number;
  pollKB?: number;
  pollMaxRssMB?: number;
}

/** GETs `path` once a second until `untilMs` (Date.now()); the highest RSS seen after an answer. */
async function pollDuring(sender: Sender, path: string, untilMs: number): Promise<{ polls: number; pollKB: number; pollMaxRssMB: number }> {
  const m = sender.metallb;
  if (!m) throw new Error(`--poll needs a metallb-ts sender, not ${sender.impl}`);
  let polls = 0;
  let bytes = 0;
  let maxRss = 0;
  while (Date.now() < untilMs) {
    const t0 = Date.now();
    const size = await m.fetchSize(path);
    if (size !== undefined) {
      polls++;
      bytes = size;
    }
    maxRss = Math.max(maxRss, memOf(sender.pid)?.rssMB ?? 0);
    await sleep(Math.max(0, Math.min(1000 - (Date.now() - t0), untilMs - Date.now())));
  }
  return { polls, pollKB: bytes / 1024, pollMaxRssMB: maxRss };
}

export async function footprintRun(impl: Impl, n: number, sessions: number, idleSeconds: number, keep = false, poll?: string): Promise<FootprintRun> {
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
    const polled = poll !== undefined ? await pollDuring(sender, poll, w0 + idleSeconds * 1000) : undefined;
    await sleep(Math.max(0, w0 + idleSeconds * 1000 - Date.now()));
    const c1 = cpuTicksOf(sender.pid);
    const w1 = Date.now();
    const mem = memOf(sender.pid);
    await sender.stop();
    for (const rx of rxs) await rx.stop();
    if (c0 === undefined || c1 === undefined || !mem) throw new Error(`${impl} exited during the idle window`);
    return { rssMB: mem.rssMB, peakMB: mem.hwmMB, cpuPct: (((c1 - c0) / CLK_TCK) / ((w1 - w0) / 1000)) * 100, ...(polled ?? {}) };
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
            const r = await footprintRun(impl, n, sessions, o.idleSeconds, o.keep, o.poll);
            const polled = r.polls !== undefined ? `; ${r.polls} GET ${o.poll ?? ''} of ${(r.pollKB ?? 0).toFixed(0)} KB, RSS up to ${(r.pollMaxRssMB ?? 0).toFixed(1)} MB` : '';
            log(`  RSS ${r.rssMB.toFixed(1)} MB (peak ${r.peakMB.toFixed(1)}), idle CPU ${r.cpuPct.toFixed(2)} %${polled}`);
            runs.push(r);
          } catch (e) {
            if (isAborted()) throw e;
            log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        const r: BenchResult = { bench: 'footprint', n, impl, sessions, idleSeconds: o.idleSeconds, runs: runs.length, ...(o.poll !== undefined ? { poll: o.poll } : {}) };
        if (runs.length === 0) r['error'] = 'every run failed';
        putSpread(r, 'rssMB', runs.map((x) => x.rssMB), 1);
        putSpread(r, 'peakMB', runs.map((x) => x.peakMB), 1);
        putSpread(r, 'cpuPct', runs.map((x) => x.cpuPct), 2);
        if (o.poll !== undefined) {
          putSpread(r, 'pollKB', runs.map((x) => x.pollKB ?? 0), 0);
          putSpread(r, 'pollMaxRssMB', runs.map((x) => x.pollMaxRssMB ?? 0), 1);
        }
        emitJson(r);
        results.push(r);
      }
    }
  }
  printTable(
    `Footprint (idle window ${o.idleSeconds} s; median (min–max) of ${o.runs} runs)`,
    ['impl', 'sessions', 'routes', 'RSS MB', 'peak RSS MB', 'idle CPU %', ...(o.poll !== undefined ? [`GET ${o.poll} KB`, 'RSS while polled MB'] : [])],
    results.map((r) => [
      r.impl,
      r['sessions'],
      r.n,
      fmtSpread(r, 'rssMB'),
      fmtSpread(r, 'peakMB'),
      fmtSpread(r, 'cpuPct'),
      ...(o.poll !== undefined ? [fmtSpread(r, 'pollKB'), fmtSpread(r, 'pollMaxRssMB')] : []),
    ]),
  );
  return results;
}
