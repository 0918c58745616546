// BGP extended communities (RFC 4360): 8 octets each, handled as 64-bit values. The codec
// encodes the ones we originate (PathAttributes.extendedCommunities, attribute type 16); received
// ones stay opaque in `unknown` (metallb-ts does not act on them), extendedCommunitiesOf reads them.
//
// Link bandwidth (draft-ietf-idr-link-bandwidth): type 0x40 (two-octet AS specific,
// non-transitive), sub-type 0x04, the AS as Global Administrator (AS_TRANS when it does not fit
// two octets), and the bandwidth in bytes per second as an IEEE 754 single-precision float. Routers
// use it for weighted ECMP (FRR `bgp bestpath bandwidth`, Junos, EOS).

import { AS_TRANS } from './common.ts';
import type { PathAttributes } from './messages.ts';

/** Path attribute type code of EXTENDED_COMMUNITIES (RFC 4360). */
export const EXTENDED_COMMUNITIES = 16;

/** Type high octet of a non-transitive two-octet-AS-specific extended community. */
export const EXT_TYPE_AS2_NON_TRANSITIVE = 0x40;
/** Sub-type of the link bandwidth extended community. */
export const EXT_SUBTYPE_LINK_BANDWIDTH = 0x04;

/** The link bandwidth extended community of `asn` (AS_TRANS above 65535) for `bytesPerSecond`. */
export function linkBandwidth(asn: number, bytesPerSecond: number): bigint {
  if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new RangeError(`link bandwidth: AS ${asn} is not a 32-bit AS number`);
  if (!(bytesPerSecond >= 0) || !Number.isFinite(bytesPerSecond)) throw new RangeError(`link bandwidth: ${bytesPerSecond} is not a non-negative bandwidth`);
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, bytesPerSecond);
  const as2 = asn > 0xffff ? AS_TRANS : asn;
  return (
    (BigInt(EXT_TYPE_AS2_NON_TRANSITIVE) << 56n) |
    (BigInt(EXT_SUBTYPE_LINK_BANDWIDTH) << 48n) |
    (BigInt(as2) << 32n) |
    BigInt(f.getUint32(0))
  );
}

/** Reads a link bandwidth community (transitive 0x00 or non-transitive 0x40 type); undefined for others. */
export function parseLinkBandwidth(c: bigint): { asn: number; bytesPerSecond: number; transitive: boolean } | undefined {
  const type = Number((c >> 56n) & 0xffn);
  const sub = Number((c >> 48n) & 0xffn);
  if (sub !== EXT_SUBTYPE_LINK_BANDWIDTH || (type !== 0x00 && type !== EXT_TYPE_AS2_NON_TRANSITIVE)) return undefined;
  const f = new DataView(new ArrayBuffer(4));
  f.setUint32(0, Number(c & 0xffffffffn));
  return { asn: Number((c >> 32n) & 0xffffn), bytesPerSecond: f.getFloat32(0), transitive: type === 0x00 };
}

/** The 8-octet wire form of extended communities. */
export function extendedCommunitiesValue(list: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(list.length * 8);
  const dv = new DataView(out.buffer);
  list.forEach((c, i) => {
    if (c < 0n || c > 0xffffffffffffffffn) throw new RangeError(`extended community ${c} is not 8 octets`);
    dv.setBigUint64(i * 8, c);
  });
  return out;
}

/** Extended communities of a decoded UPDATE (the opaque type 16 attribute), or [] when it has none or a malformed one. */
export function extendedCommunitiesOf(a: PathAttributes): bigint[] {
  if (a.extendedCommunities !== undefined) return [...a.extendedCommunities];
  const u = a.unknown?.find((x) => x.type === EXTENDED_COMMUNITIES);
  if (!u || u.value.length % 8 !== 0) return [];
  const dv = new DataView(u.value.buffer, u.value.byteOffset, u.value.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < u.value.length; i += 8) out.push(dv.getBigUint64(i));
  return out;
}
