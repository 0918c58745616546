// Benchmark 1, full-table delivery: a sender holding N /32 routes, a BIRD2 receiver started
// afterwards; clock from the session reaching Established (on the wire, receiver side capture)
// until BIRD's protocol stats show N routes imported. Same work by metallb-ts standalone,
// GoBGP and BIRD as senders, fresh namespaces and processes for every run.

import { join } from 'node:path';
import { createLab } from './lib/netns.ts';
import { establishedAt, startCapture, updateStats } from './lib/pcap.ts';
import { BenchError, isAborted, memOf, nowEpoch, sleep, waitFor } from './lib/proc.ts';
import { makeReceiver, makeSender } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { emitJson, fmtSpread, log, printTable, putSpread, round } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

export interface FullTableOptions {
  sizes: number[];
  runs: number;
  impls: Impl[];
  keep?: boolean;
}

export interface FullTableRun {
  seconds: number;
  wireSeconds: number;
  updates: number;
  updateBytes: number;
  announced: number;
  /** Peak RSS (VmHWM) of the sender, and its RSS when the receiver held every route. */
  rssMB: number;
  rssNowMB: number;
  gaps: number;
}

export async function fullTableRun(impl: Impl, n: number, keep = false): Promise<FullTableRun> {
  const lab = await createLab({ keepDir: keep });
  try {
    const cap = await startCapture(lab.rxNs, join(lab.dir, 'bgp.pcap'), join(lab.dir, 'tcpdump.log'));
    const sender = makeSender(impl, { lab, n });
    await sender.start();
    const rx = makeReceiver(lab);
    await rx.start();
    await waitFor(`${impl} session Established`, async () => ((await rx.protocol('tx0')).established ? true : undefined), 120000, 20);
    const tFull = await waitFor(
      `BIRD to hold ${n} routes from ${impl}`,
      async () => ((await rx.protocol('tx0')).imported >= n ? nowEpoch() : undefined),
      600000,
      10,
    );
    const mem = memOf(sender.pid);
    const pcap = await cap.stop(300);
    const est = establishedAt(pcap.messages);
    if (est === undefined) throw new BenchError(`no Established seen on the wire for ${impl} (capture ${cap.file})`);
    const st = updateStats(pcap.messages, lab.txAddr);
    await sender.stop();
    await rx.stop();
    return {
      seconds: tFull - est,
      wireSeconds: (st.lastUpdate ?? est) - est,
      updates: st.updates,
      updateBytes: st.updateBytes,
      announced: st.announced,
      rssMB: mem?.hwmMB ?? NaN,
      rssNowMB: mem?.rssMB ?? NaN,
      gaps: pcap.gaps,
    };
  } finally {
    await lab.destroy();
  }
}

export async function fullTable(o: FullTableOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const n of o.sizes) {
    const byImpl = new Map<Impl, BenchResult>();
    for (const impl of o.impls) {
      const runs: FullTableRun[] = [];
      for (let i = 0; i < o.runs; i++) {
        log(`fulltable n=${n} impl=${impl} run ${i + 1}/${o.runs}`);
        try {
          const r = await fullTableRun(impl, n, o.keep);
          log(`  ${r.seconds.toFixed(3)} s, ${r.updates} UPDATEs, ${r.updateBytes} bytes, peak RSS ${r.rssMB.toFixed(1)} MB`);
          runs.push(r);
        } catch (e) {
          if (isAborted()) throw e;
          log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        await sleep(200);
      }
      const res: BenchResult = { bench: 'fulltable', n, impl, runs: runs.length };
      if (runs.length === 0) res['error'] = 'every run failed';
      putSpread(res, 'seconds', runs.map((r) => r.seconds));
      putSpread(res, 'wireSeconds', runs.map((r) => r.wireSeconds));
      putSpread(res, 'rssMB', runs.map((r) => r.rssMB), 1);
      putSpread(res, 'rssNowMB', runs.map((r) => r.rssNowMB), 1);
      const last = runs[runs.length - 1];
      res['updates'] = last?.updates ?? null;
      res['bytes'] = last?.updateBytes ?? null;
      res['prefixesPerUpdate'] = last && last.updates > 0 ? round(last.announced / last.updates, 1) : null;
      res['captureGaps'] = last?.gaps ?? null;
      byImpl.set(impl, res);
    }
    const gobgp = byImpl.get('gobgp');
    for (const res of byImpl.values()) {
      const g = gobgp?.['seconds'];
      const s = res['seconds'];
      res['ratioToGobgp'] = typeof g === 'number' && typeof s === 'number' && g > 0 ? round(s / g, 2) : null;
      emitJson(res);
      results.push(res);
    }
    printTable(
      `Full-table delivery, N = ${n} (median (min–max) of ${o.runs} runs)`,
      ['impl', 'seconds', 'ratio/GoBGP', 'wire s', 'UPDATEs', 'bytes', 'prefixes/UPDATE', 'sender peak RSS MB', 'RSS after MB'],
      [...byImpl.values()].map((r) => [
        r.impl,
        fmtSpread(r, 'seconds'),
        r['ratioToGobgp'],
        fmtSpread(r, 'wireSeconds'),
        r['updates'],
        r['bytes'],
        r['prefixesPerUpdate'],
        fmtSpread(r, 'rssMB'),
        fmtSpread(r, 'rssNowMB'),
      ]),
    );
  }
  return results;
}
