// What a Kubernetes Secret means to metallb-ts (pure): how its values are read (stringData over
// strict-base64 data), how a reference finds it among the Secrets a runtime knows, and the rules
// for the two kinds of Secret the product reads — the BGP password (MetalLB's basic-auth Secret,
// key `password`, a TCP-MD5 key) and the Layer 2 memberlist key (see node/layer2.ts).

import type { Secret } from './objects.ts';

/** Key of the password in a BGP password Secret (MetalLB: basic-auth Secret, key `password`). */
export const PASSWORD_SECRET_KEY = 'password';
/** Secret type MetalLB requires for BGP passwords; a Secret without `type` is accepted (folder input). */
export const BASIC_AUTH_SECRET_TYPE = 'kubernetes.io/basic-auth';
/** Longest TCP-MD5 key Linux accepts (TCP_MD5SIG_MAXKEYLEN). */
export const MAX_MD5_KEY_BYTES = 80;

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

/**
 * Every reason a BGP password Secret yields no TCP-MD5 key (empty when it is usable): the type
 * must be basic-auth (no type is accepted: folder input), key `password` must be present, valid
 * base64, non-empty and at most MAX_MD5_KEY_BYTES long.
 */
export function bgpPasswordProblems(secret: Secret): string[] {
  const problems: string[] = [];
  if (secret.type !== undefined && secret.type !== BASIC_AUTH_SECRET_TYPE) {
    problems.push(`Secret must be of type ${BASIC_AUTH_SECRET_TYPE}, is ${secret.type}`);
  }
  const v = secretValue(secret, PASSWORD_SECRET_KEY);
  if ('error' in v) problems.push(v.error);
  else if (v.value === '') problems.push(`key "${PASSWORD_SECRET_KEY}" is empty`);
  else {
    const bytes = Buffer.byteLength(v.value, 'utf8');
    if (bytes > MAX_MD5_KEY_BYTES) problems.push(`password is ${bytes} bytes, TCP-MD5 allows at most ${MAX_MD5_KEY_BYTES}`);
  }
  return problems;
}

/** The TCP-MD5 key a BGPPeer's `passwordSecret` yields, or the first reason it yields none. */
export function bgpPasswordFrom(secret: Secret | undefined): { value: string } | { error: string } {
  if (!secret) return { error: 'Secret not found' };
  const problems = bgpPasswordProblems(secret);
  if (problems[0] !== undefined) return { error: problems[0] };
  const v = secretValue(secret, PASSWORD_SECRET_KEY);
  return 'error' in v ? v : { value: v.value };
}

