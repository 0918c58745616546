// BGP passwords from Secrets (pure). A BGPPeer with `passwordSecret` names a basic-auth Secret
// whose key `password` holds the TCP-MD5 key. The planner leaves such sessions with the
// reference only; every runtime (Kubernetes speaker, standalone) resolves them here, against the
// Secrets it knows, before handing the sessions to the BGP speaker. A session whose password
// cannot be resolved is NOT started (never with an empty or missing key): it is returned in
// `blocked` with the precise reason, and the reason is in `errors` as a one-line message.

import type { Secret } from '../model/objects.ts';
import type { SessionPlan } from './types.ts';

/** Key of the password in a BGP password Secret (MetalLB: basic-auth Secret, key `password`). */
export const PASSWORD_SECRET_KEY = 'password';
/** Secret type MetalLB requires for BGP passwords; a Secret without `type` is accepted (folder input). */
export const BASIC_AUTH_SECRET_TYPE = 'kubernetes.io/basic-auth';
/** Longest TCP-MD5 key Linux accepts (TCP_MD5SIG_MAXKEYLEN). */
export const MAX_MD5_KEY_BYTES = 80;

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

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict (padded, standard alphabet) base64 → UTF-8 text; undefined when malformed. */
export function decodeStrictBase64(s: string): string | undefined {
  if (!BASE64.test(s)) return undefined;
  return Buffer.from(s, 'base64').toString('utf8');
}

/**
 * The value of `key` in a Secret: `stringData` wins over `data` (Kubernetes merges stringData
 * into data on write, overwriting); `data` values are strict base64.
 */
export function secretValue(secret: Secret, key: string): { value: string } | { error: string } {
  const s = secret.stringData?.[key];
  if (s !== undefined) return { value: s };
  const raw = secret.data?.[key];
  if (raw === undefined) return { error: `Secret has no key "${key}"` };
  const v = decodeStrictBase64(raw);
  if (v === undefined) return { error: `data.${key} is not valid base64` };
  return { value: v };
}

/** The Secret `namespace/name` among `secrets` (a Secret without namespace matches any: folder input). */
export function findSecret(secrets: readonly Secret[], namespace: string, name: string): Secret | undefined {
  const named = secrets.filter((s) => s.metadata.name === name);
  return named.find((s) => s.metadata.namespace === namespace) ?? named.find((s) => s.metadata.namespace === undefined);
}

function passwordFrom(secret: Secret | undefined): { value: string } | { error: string } {
  if (!secret) return { error: 'Secret not found' };
  if (secret.type !== undefined && secret.type !== BASIC_AUTH_SECRET_TYPE) {
    return { error: `Secret must be of type ${BASIC_AUTH_SECRET_TYPE}, is ${secret.type}` };
  }
  const v = secretValue(secret, PASSWORD_SECRET_KEY);
  if ('error' in v) return v;
  if (v.value === '') return { error: `key "${PASSWORD_SECRET_KEY}" is empty` };
  const bytes = Buffer.byteLength(v.value, 'utf8');
  if (bytes > MAX_MD5_KEY_BYTES) return { error: `password is ${bytes} bytes, TCP-MD5 allows at most ${MAX_MD5_KEY_BYTES}` };
  return v;
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
    const pw = passwordFrom(findSecret(secrets, ref.namespace, ref.name));
    if ('error' in pw) {
      out.blocked.push({ session: s, secret: secretKey, reason: pw.error });
      out.errors.push(`BGPPeer "${s.peer}" (node ${s.node}): passwordSecret ${secretKey}: ${pw.error}; session not started`);
      continue;
    }
    out.sessions.push({ ...s, config: { ...s.config, password: pw.value } });
  }
  return out;
}
