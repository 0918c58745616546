// Session lifecycle beyond the RFC 4271 FSM: graceful restart (RFC 4724 / RFC 8538) across a
// process restart, and drain (RFC 8326 graceful shutdown).
//
// Graceful restart across processes: when the speaker stops for a restart (SIGTERM with
// enableGracefulRestart), every session that negotiated graceful restart is closed without
// withdrawing, and a restart marker (a small JSON file) records when and which sessions. The next
// process reads it: a session listed there whose restart time has not run out sends the Restart
// State bit in its first OPEN, re-announces its table and End-of-RIB; the router then drops the
// stale routes that were not re-announced. The marker is deleted once every listed session has
// re-synchronised or its restart time has passed.

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { SessionState } from '../session/types.ts';

/** Per-session lifecycle phase shown in /status. */
export type SessionPhase =
  /** Established and announcing normally. */
  | 'established'
  /** Not Established; the peer holds nothing of ours. */
  | 'down'
  /** First connection after a graceful restart of this speaker: the peer holds our routes as stale. */
  | 'restarting'
  /** The connection was lost with graceful restart negotiated: the peer holds our routes as stale. */
  | 'stale-at-peer'
  /** Draining (RFC 8326): routes re-advertised with GRACEFUL_SHUTDOWN, withdrawn when the period ends. */
  | 'draining'
  /** Drained: every route withdrawn, the session stays up. */
  | 'drained';

/** What the routes of a session look like: normal, draining (65535:0), or withdrawn. */
export type RouteMode = 'normal' | 'draining' | 'drained';

export interface PhaseInput {
  state: SessionState;
  mode: RouteMode;
  /** The Restart State bit is still to be sent / the restart is not complete. */
  restarting: boolean;
  /** ms (clock) until which the peer keeps our routes as stale after a lost connection. */
  staleUntil: number | undefined;
  now: number;
}

export function sessionPhase(p: PhaseInput): SessionPhase {
  if (p.mode === 'draining') return 'draining';
  if (p.mode === 'drained') return 'drained';
  if (p.state === 'Established') return 'established';
  if (p.staleUntil !== undefined && p.now < p.staleUntil) return p.restarting ? 'restarting' : 'stale-at-peer';
  return 'down';
}

// --- restart marker ------------------------------------------------------------------------

export interface RestartMarkerSession {
  /** sessionKey() of the session (peer name | address | port | vrf). */
  key: string;
  /** Restart time announced to the peer (seconds): how long it keeps our routes. */
  restartTime: number;
}

export interface RestartMarker {
  version: 1;
  /** When the sessions were closed (ms since epoch). */
  stoppedAt: number;
  sessions: RestartMarkerSession[];
}

/** Sessions of a marker whose peer still holds our routes at `now`: key -> deadline (ms). */
export function pendingRestarts(m: RestartMarker | undefined, now: number): Map<string, number> {
  const out = new Map<string, number>();
  if (!m) return out;
  for (const s of m.sessions) {
    const until = m.stoppedAt + s.restartTime * 1000;
    if (now < until && now >= m.stoppedAt - 60_000) out.set(s.key, until);
  }
  return out;
}

/** Parses a marker; undefined (with the reason) for anything malformed. */
export function parseRestartMarker(text: string): { marker?: RestartMarker; error?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  const d = doc as Partial<RestartMarker> | null;
  if (!d || typeof d !== 'object' || d.version !== 1 || typeof d.stoppedAt !== 'number' || !Array.isArray(d.sessions)) {
    return { error: 'not a version 1 restart marker' };
  }
  const sessions: RestartMarkerSession[] = [];
  for (const s of d.sessions as unknown[]) {
    const r = s as Partial<RestartMarkerSession> | null;
    if (r && typeof r.key === 'string' && typeof r.restartTime === 'number' && r.restartTime >= 0 && r.restartTime <= 4095) {
      sessions.push({ key: r.key, restartTime: r.restartTime });
    }
  }
  return { marker: { version: 1, stoppedAt: d.stoppedAt, sessions } };
}

export function readRestartMarker(path: string): { marker?: RestartMarker; error?: string } {
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { error: `${path}: ${(e as Error).message}` };
  }
  const r = parseRestartMarker(text);
  return r.error ? { error: `${path}: ${r.error}` } : r;
}

/** Writes the marker atomically (temp file + rename). Throws with the path on I/O errors. */
export function writeRestartMarker(path: string, m: RestartMarker): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(m) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write restart marker ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export function removeRestartMarker(path: string): void {
  rmSync(path, { force: true });
}
