// MetalLB's memberlist Secret: the speakers' shared Layer 2 liveness secret (Secret
// `metallb-memberlist`, key `secretkey`, in the speakers' namespace). The controller's leader
// creates it when it is absent, like MetalLB's controller, so Layer 2 failover works out of the
// box; an existing Secret is never modified or overwritten.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Secret } from '../model/objects.ts';
import { R, isConflict } from './client.ts';
import type { KubeClient } from './client.ts';

import { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME } from '../layer2/members.ts';

export { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME };
/** Random bytes behind a generated key (the key is their base64 text, 44 ASCII characters). */
export const MEMBERLIST_KEY_BYTES = 32;

/**
 * The Secret the controller creates: type Opaque, `data.secretkey` = base64 of the key, where the
 * key is the base64 text of `random` (ASCII, so it survives the speakers' UTF-8 decoding intact).
 */
export function memberlistSecret(namespace: string, name: string, random: Buffer): Secret {
  if (random.length < MEMBERLIST_KEY_BYTES) throw new RangeError(`memberlist key needs at least ${MEMBERLIST_KEY_BYTES} random bytes, got ${random.length}`);
  const key = random.toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'metallb-ts', 'app.kubernetes.io/component': 'controller' } },
    type: 'Opaque',
    data: { [MEMBERLIST_SECRET_KEY]: Buffer.from(key, 'ascii').toString('base64') },
  };
}

/**
 * Creates the memberlist Secret unless it exists. `exists` is what the caller's cache says; the
 * API server has the last word: 409 AlreadyExists means someone else created it first (fine).
 * Returns 'created', 'exists'. Other API errors are thrown (the caller retries).
 */
export async function ensureMemberlistSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  exists: boolean,
  logger: Logger,
): Promise<'created' | 'exists'> {
  if (exists) return 'exists';
  const secret = memberlistSecret(namespace, name, randomBytes(MEMBERLIST_KEY_BYTES));
  try {
    await client.create(R.secrets, { ...secret, metadata: { ...secret.metadata } });
  } catch (err) {
    if (isConflict(err)) return 'exists';
    throw err;
  }
  logger.info({ secret: `${namespace}/${name}` }, 'created the Layer 2 memberlist Secret');
  return 'created';
}
