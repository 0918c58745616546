// POST control endpoints of a running standalone or speaker, used by `metallb-ts drain`:
//   POST /drain?period=30s[&stop=true]  drain (RFC 8326); answers once the routes are withdrawn;
//                                       with stop=true the process then stops (a real stop)
//   POST /resume                        end a drain: announce normally again
// The HTTP server answers them for loopback clients only (src/observability/http.ts).

import type { Logger } from 'pino';
import type { HttpEndpoints } from '../observability/http.ts';
import { parseGoDuration } from '../config/duration.ts';

/** Default drain period of `metallb-ts drain` and drain on leave. */
export const DEFAULT_DRAIN_PERIOD_MS = 30_000;

export interface Drainable {
  drain(periodMs: number): Promise<void>;
  resume(): void;
}

export function controlEndpoints(
  rt: Drainable,
  sessions: () => readonly { peer: string; speaker: { phase?: string } | null }[],
  defaultPeriodMs: number,
  logger: Logger,
  requestStop: (how: { withdraw: boolean }) => void,
): NonNullable<HttpEndpoints['control']> {
  return {
    '/drain': async (q) => {
      const p = q.get('period');
      const periodMs = p === null || p === '' ? defaultPeriodMs : parseGoDuration(p);
      if (periodMs === undefined) return { status: 400, body: { error: `period: "${p}" is not a duration (e.g. 30s)` } };
      const stopAfter = q.get('stop') === 'true';
      logger.info({ periodMs, stop: stopAfter }, 'drain requested');
      try {
        await rt.drain(periodMs);
      } catch (e) {
        return { status: 500, body: { error: (e as Error).message } };
      }
      const list = sessions().map((s) => ({ peer: s.peer, phase: s.speaker?.phase ?? null }));
      if (stopAfter) {
        logger.info('drained: stopping');
        setImmediate(() => requestStop({ withdraw: true }));
      }
      return { status: 200, body: { drained: true, periodMs, stopping: stopAfter, sessions: list } };
    },
    '/resume': (): Promise<{ status: number; body: unknown }> => {
      rt.resume();
      logger.info('drain cancelled: announcing normally');
      return Promise.resolve({ status: 200, body: { resumed: true } });
    },
  };
}
