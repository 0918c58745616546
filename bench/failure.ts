// Benchmark 4, failure detection, per sender (metallb-ts standalone, GoBGP, BIRD), hold time
// 3 s / keepalive 1 s configured on the sender (the BIRD receiver keeps its 240 s default, so
// the session negotiates 3 s):
//   - "sender-kill": kill -9 the sender. The kernel closes its TCP socket, so the receiver
//     learns at once; time until BIRD has withdrawn every route.
//   - "sender-freeze": SIGSTOP the sender (a hung or powered-off node: the socket stays open,
//     nothing is sent); time until BIRD's hold timer fires and every route is withdrawn.
//   - "receiver-kill": kill -9 BIRD; time until the sender reports the session down
//     (metallb-ts: /status; GoBGP: `gobgp neighbor`; BIRD: `birdc show protocols`).
//   - "freeze-bfd-100x3" / "freeze-bfd-50x3": as sender-freeze, with BFD between sender and
//     receiver (metallb-ts: a BFDProfile on the BGPPeer; BIRD: protocol bfd + `bfd on`) at
//     100 ms x 3 (300 ms detection) / 50 ms x 3 (150 ms); BIRD's BFD declares the frozen sender
//     down and drops the session and its routes. GoBGP has no BFD: not run.

import { createLab } from './lib/netns.ts';
import { BenchError, isAborted, nowEpoch, sleep, waitFor } from './lib/proc.ts';
import { makeReceiver, makeSender } from './lib/senders.ts';
import type { Impl } from './lib/senders.ts';
import { emitJson, fmtSpread, log, printTable, putSpread } from './lib/stats.ts';
import type { BenchResult } from './lib/stats.ts';

export const FAILURE_SCENARIOS = ['sender-kill', 'sender-freeze', 'receiver-kill', 'freeze-bfd-100x3', 'freeze-bfd-50x3'] as const;
export type FailureScenario = (typeof FAILURE_SCENARIOS)[number];

/** BFD timers of a scenario (undefined: no BFD). */
export function scenarioBfd(s: FailureScenario): { intervalMs: number; multiplier: number } | undefined {
  if (s === 'freeze-bfd-100x3') return { intervalMs: 100, multiplier: 3 };
  if (s === 'freeze-bfd-50x3') return { intervalMs: 50, multiplier: 3 };
  return undefined;
}

export interface FailureOptions {
  runs: number;
  impls: Impl[];
  /** Routes announced (default 100). */
  n?: number;
  holdTime?: number;
  keepaliveTime?: number;
  keep?: boolean;
  /** Default: all. */
  scenarios?: FailureScenario[];
}

export async function failureRun(impl: Impl, scenario: FailureScenario, n: number, holdTime: number, keepaliveTime: number, keep = false): Promise<number> {
  const lab = await createLab({ keepDir: keep });
  const bfd = scenarioBfd(scenario);
  try {
    const sender = makeSender(impl, { lab, n, holdTime, keepaliveTime, ...(bfd ? { bfd } : {}) });
    await sender.start();
    const rx = makeReceiver(lab, lab.rxAddr, bfd ? { bfd } : {});
    await rx.start();
    await waitFor(`${impl} routes at BIRD`, async () => {
      const p = await rx.protocol('tx0');
      return p.established && p.imported >= n ? true : undefined;
    }, 120000, 50);
    if (bfd) await waitFor(`BFD Up at BIRD`, async () => ((await rx.bfdUp(lab.txAddr)) ? true : undefined), 30000, 50);
    // let a few keepalives go by so that the hold timer is measured from a steady state
    await sleep(1500);
    let t0: number;
    let t1: number;
    switch (scenario) {
      case 'sender-kill':
      case 'sender-freeze':
      case 'freeze-bfd-100x3':
      case 'freeze-bfd-50x3': {
        t0 = nowEpoch();
        process.kill(sender.pid, scenario === 'sender-kill' ? 'SIGKILL' : 'SIGSTOP');
        t1 = await waitFor('BIRD to withdraw the routes', async () => ((await rx.protocol('tx0')).imported === 0 ? nowEpoch() : undefined), (holdTime + 30) * 1000, 10);
        break;
      }
      case 'receiver-kill': {
        await waitFor(`${impl} to report the session established`, async () => ((await sender.establishedCount()) >= 1 ? true : undefined), 30000, 50);
        t0 = nowEpoch();
        process.kill(rx.pid, 'SIGKILL');
        // each poll (curl /status, gobgp neighbor, birdc) takes a few ms: take the middle of the
        // poll that first saw the session down as the detection time
        t1 = await waitFor(
          `${impl} to report the session down`,
          async () => {
            const a = nowEpoch();
            const c = await sender.establishedCount();
            return c === 0 ? (a + nowEpoch()) / 2 : undefined;
          },
          (holdTime + 30) * 1000,
          5,
        );
        break;
      }
    }
    if (scenario !== 'sender-kill' && scenario !== 'receiver-kill') {
      try {
        process.kill(sender.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sender.stop();
    await rx.stop();
    if (t1 < t0) throw new BenchError('clock went backwards');
    return t1 - t0;
  } finally {
    await lab.destroy();
  }
}

export async function failure(o: FailureOptions): Promise<BenchResult[]> {
  const n = o.n ?? 100;
  const hold = o.holdTime ?? 3;
  const ka = o.keepaliveTime ?? 1;
  const results: BenchResult[] = [];
  const scenarios = o.scenarios ?? [...FAILURE_SCENARIOS];
  for (const scenario of scenarios) {
    for (const impl of o.impls) {
      if (scenarioBfd(scenario) && impl === 'gobgp') continue; // GoBGP has no BFD
      const secs: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        log(`failure ${scenario} impl=${impl} run ${i + 1}/${o.runs}`);
        try {
          const s = await failureRun(impl, scenario, n, hold, ka, o.keep);
          log(`  ${s.toFixed(3)} s`);
          secs.push(s);
        } catch (e) {
          if (isAborted()) throw e;
          log(`  failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const r: BenchResult = { bench: 'failure', n, impl, scenario, holdTime: hold, runs: secs.length };
      if (secs.length === 0) r['error'] = 'every run failed';
      putSpread(r, 'seconds', secs);
      emitJson(r);
      results.push(r);
    }
  }
  printTable(
    `Failure detection (hold ${hold} s, keepalive ${ka} s; median (min–max) of ${o.runs} runs, seconds)`,
    ['impl', ...scenarios],
    o.impls.map((impl) => [impl, ...scenarios.map((sc) => {
      const r = results.find((x) => x.impl === impl && x['scenario'] === sc);
      return r ? fmtSpread(r, 'seconds') : '-';
    })]),
  );
  return results;
}
