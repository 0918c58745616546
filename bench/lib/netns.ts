// A two-namespace lab created by the benchmark itself: "<prefix>-rx" (the receiving router)
// and "<prefix>-tx" (the sender under test), joined by one veth pair (eth0 on both sides).
// Nothing is created in the root namespace. Addresses (inside our namespaces only):
//   rx: 10.77.0.1/24 (+ 10.77.0.11.. for extra sessions), tx: 10.77.0.2/24.
// destroy() stops any process still inside our namespaces (by PID) and deletes them.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, run, runOk, sleep } from './proc.ts';

export interface Lab {
  id: string;
  /** Scratch directory for configs, sockets, captures and logs. */
  dir: string;
  rxNs: string;
  txNs: string;
  rxAddr: string;
  txAddr: string;
  /** Extra receiver addresses (one per additional session). */
  rxExtra: string[];
  destroy(): Promise<void>;
}

export interface LabOptions {
  /** Number of extra receiver addresses (for multi-session benchmarks). */
  extraRx?: number;
  /** Keep the scratch directory after destroy (for debugging). */
  keepDir?: boolean;
}

let labCounter = 0;

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  labCounter++;
  const id = `${process.pid.toString(36)}${labCounter.toString(36)}${Math.floor(Math.random() * 36 * 36).toString(36)}`;
  const prefix = `mlbb-${id}`;
  const rxNs = `${prefix}-rx`;
  const txNs = `${prefix}-tx`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const rxAddr = '10.77.0.1';
  const txAddr = '10.77.0.2';
  const rxExtra: string[] = [];
  for (let i = 0; i < (opts.extraRx ?? 0); i++) rxExtra.push(`10.77.0.${11 + i}`);

  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    for (const ns of created) {
      // anything still running inside our namespaces is ours by construction: stop it by PID
      for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
        const r = await run('ip', ['netns', 'pids', ns]);
        const pids = r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, sig);
          } catch {
            /* gone */
          }
        }
        await sleep(300);
      }
      await run('ip', ['netns', 'del', ns]);
    }
    created.length = 0;
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const runCleanup = onCleanup(`delete namespaces ${prefix}-*`, destroy);

  try {
    for (const ns of [rxNs, txNs]) {
      await runOk('ip', ['netns', 'add', ns]);
      created.push(ns);
      await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await runOk('ip', ['-n', rxNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', txNs]);
    await runOk('ip', ['-n', rxNs, 'addr', 'add', `${rxAddr}/24`, 'dev', 'eth0']);
    for (const a of rxExtra) await runOk('ip', ['-n', rxNs, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    await runOk('ip', ['-n', txNs, 'addr', 'add', `${txAddr}/24`, 'dev', 'eth0']);
    await runOk('ip', ['-n', rxNs, 'link', 'set', 'eth0', 'up']);
    await runOk('ip', ['-n', txNs, 'link', 'set', 'eth0', 'up']);
  } catch (e) {
    await runCleanup();
    throw e;
  }
  return { id, dir, rxNs, txNs, rxAddr, txAddr, rxExtra, destroy: runCleanup };
}
