// Checks on a received UPDATE that need the session's context (is the peer external?), as a pure
// function: the decoder applies it when the session tells it whether the peer is eBGP
// (CodecOptions.ebgp), and a receive path (Adj-RIB-In) can call it on a decoded UPDATE.

import type { PathAttributes } from './messages.ts';

/** What the receiver knows about the session the UPDATE came from. */
export interface ReceivedContext {
  /** The peer is in another AS (eBGP). metallb-ts is never a confederation member. */
  ebgp: boolean;
}

/**
 * Session-dependent RFC checks on a received UPDATE's path attributes. Returns the reason to
 * treat the UPDATE as withdraw (RFC 7606), or undefined when the routes may be used.
 *  - AS_CONFED_SEQUENCE / AS_CONFED_SET in AS_PATH from an eBGP peer: RFC 5065 §5.3 makes
 *    that a malformed AS_PATH, handled by treat-as-withdraw (RFC 7606 §7.2, 3/11). We are not
 *    in a confederation, so every external peer is outside it.
 */
export function checkReceivedAttributes(attrs: PathAttributes, ctx: ReceivedContext): string | undefined {
  if (ctx.ebgp && attrs.asPath !== undefined) {
    for (const s of attrs.asPath) {
      if (s.type === 3 || s.type === 4) {
        return `AS_PATH with ${s.type === 3 ? 'AS_CONFED_SEQUENCE' : 'AS_CONFED_SET'} from an external peer (RFC 5065 §5.3) (3/11)`;
      }
    }
  }
  return undefined;
}
