// BGP passwords from Secrets (pure). A BGPPeer with `passwordSecret` names a basic-auth Secret
// whose key `password` holds the TCP-MD5 key. The planner leaves such sessions with the
// reference only; every runtime (Kubernetes speaker, standalone) resolves them here, against the
// Secrets it knows, before handing the sessions to the BGP speaker. A session whose password
// cannot be resolved is NOT started (never with an empty or missing key): it is returned in
// `blocked` with the precise reason, and the reason is in `errors` as a one-line message.

import type { Secret } from '../model/objects.ts';
import { bgpPasswordFrom, findSecret } from '../model/secret.ts';
import type { SessionPlan } from './types.ts';

export interface BlockedSession {
  /** The session as planned (its config still has no `password`). */
  session: SessionPlan;
  /** `namespace/name` of the Secret the peer refers to. */
  secret: string;
  /** Why the password could not be resolved (no trailing period). */
  reason: string;
}

export interface ResolvedPasswords {
  /** Sessions ready for the BGP speaker: those without passwordSecret unchanged, the others with `config.password` filled. */
  sessions: SessionPlan[];
  /** Sessions that must stay down, with the reason. */
  blocked: BlockedSession[];
  /** One message per blocked session: `BGPPeer "p" (node n): passwordSecret ns/name: reason; session not started`. */
  errors: string[];
}

/**
 * Fills `config.password` of every session whose peer uses `passwordSecret`, from `secrets`.
 * Sessions with an inline `password`, or with neither, pass through unchanged. Order is kept.
 */
export function resolvePeerPasswords(sessions: readonly SessionPlan[], secrets: readonly Secret[]): ResolvedPasswords {
  const out: ResolvedPasswords = { sessions: [], blocked: [], errors: [] };
  for (const s of sessions) {
    const ref = s.config.passwordSecret;
    if (!ref || s.config.password !== undefined) {
      out.sessions.push(s);
      continue;
    }
    const secretKey = `${ref.namespace}/${ref.name}`;
    const pw = bgpPasswordFrom(findSecret(secrets, ref.namespace, ref.name));
    if ('error' in pw) {
      out.blocked.push({ session: s, secret: secretKey, reason: pw.error });
      out.errors.push(`BGPPeer "${s.peer}" (node ${s.node}): passwordSecret ${secretKey}: ${pw.error}; session not started`);
      continue;
    }
    out.sessions.push({ ...s, config: { ...s.config, password: pw.value } });
  }
  return out;
}
