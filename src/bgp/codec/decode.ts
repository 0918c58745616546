// BGP-4 message decoder. Never throws: every input gives a DecodeResult, classified per
// RFC 4271 §6 and RFC 7606 (session reset / treat-as-withdraw / attribute discard).
// See docs/bgp-codec.md for the table of checks and outcomes.

import {
  AS_TRANS,
  AttrFlag,
  AttrType,
  BGP_VERSION,
  CapabilityCode,
  HEADER_LENGTH,
  notification,
  u16Bytes,
} from './common.ts';
import { ErrorCode, HeaderSubcode, MessageType, OpenSubcode, UpdateSubcode } from './messages.ts';
import { checkReceivedAttributes } from './received.ts';
import { decodeAttribute, mergeAs4Path, type As4Seen } from './attributes.ts';
import { parsePrefixes, u16, u32 } from './reader.ts';
import type {
  Capability,
  CodecOptions,
  DecodeResult,
  NLRI,
  NotificationMessage,
  OpenMessage,
  PathAttributes,
  UpdateMessage,
} from './messages.ts';

function err(code: number, subcode: number, reason: string, data?: Uint8Array): DecodeResult {
  return { kind: 'error', notification: notification(code, subcode, data), reason };
}

function badLength(bodyLength: number, reason: string): DecodeResult {
  return err(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, reason, u16Bytes(Math.min(HEADER_LENGTH + bodyLength, 0xffff)));
}

/**
 * Decodes the body of one framed message (`type` and `body` as returned by MessageFramer).
 * Never throws.
 */
export function decodeMessage(type: number, body: Uint8Array, opts: CodecOptions): DecodeResult {
  try {
    switch (type) {
      case MessageType.OPEN:
        return decodeOpen(body);
      case MessageType.UPDATE:
        return decodeUpdate(body, opts);
      case MessageType.NOTIFICATION:
        return decodeNotification(body);
      case MessageType.KEEPALIVE:
        if (body.length !== 0) return badLength(body.length, 'KEEPALIVE with a body');
        return { kind: 'ok', message: { type: 4 } };
      case MessageType.ROUTE_REFRESH:
        return decodeRouteRefresh(body);
      default:
        return err(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE, `unknown message type ${type}`, Uint8Array.of(type & 0xff));
    }
  } catch (e) {
    // Defensive net: the decoder is written not to throw; if it ever does, the session is reset
    // with an unspecific error of the message's kind rather than crashing the process.
    const code = type === MessageType.OPEN ? ErrorCode.OPEN_MESSAGE : type === MessageType.UPDATE ? ErrorCode.UPDATE_MESSAGE : ErrorCode.MESSAGE_HEADER;
    return err(code, 0, `internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// NOTIFICATION / ROUTE-REFRESH

function decodeNotification(body: Uint8Array): DecodeResult {
  if (body.length < 2) return badLength(body.length, 'NOTIFICATION shorter than 21 bytes');
  const message: NotificationMessage = { type: 3, code: body[0] ?? 0, subcode: body[1] ?? 0, data: body.slice(2) };
  return { kind: 'ok', message };
}

function decodeRouteRefresh(body: Uint8Array): DecodeResult {
  if (body.length < 4) return badLength(body.length, 'ROUTE-REFRESH shorter than 23 bytes');
  const afi = u16(body, 0);
  const subtype = body[2] ?? 0;
  const safi = body[3] ?? 0;
  if ((subtype === 1 || subtype === 2) && body.length !== 4) {
    // RFC 7313 §5: the data is the complete ROUTE-REFRESH message.
    const whole = new Uint8Array(HEADER_LENGTH + body.length);
    whole.fill(0xff, 0, 16);
    whole.set(u16Bytes(Math.min(HEADER_LENGTH + body.length, 0xffff)), 16);
    whole[18] = MessageType.ROUTE_REFRESH;
    whole.set(body, HEADER_LENGTH);
    return err(ErrorCode.ROUTE_REFRESH, 1, `enhanced ROUTE-REFRESH subtype ${subtype} with ${body.length}-byte body`, whole);
  }
  // Subtype 0 may carry ORF entries (RFC 5291), which are ignored; subtypes >= 3 are reserved
  // and must be ignored by the receiver (RFC 7313), which the session does.
  return { kind: 'ok', message: { type: 5, afi, subtype, safi } };
}

// ---------------------------------------------------------------------------------------------
// OPEN

function openErr(subcode: number, reason: string, data?: Uint8Array): DecodeResult {
  return err(ErrorCode.OPEN_MESSAGE, subcode, reason, data);
}

function decodeOpen(body: Uint8Array): DecodeResult {
  if (body.length < 10) return badLength(body.length, 'OPEN shorter than 29 bytes');
  const version = body[0] ?? 0;
  if (version !== BGP_VERSION) {
    return openErr(OpenSubcode.UNSUPPORTED_VERSION, `unsupported BGP version ${version}`, u16Bytes(BGP_VERSION));
  }
  const myAS = u16(body, 1);
  const holdTime = u16(body, 3);
  const bgpId = u32(body, 5);
  const optLen = body[9] ?? 0;

  // Optional parameters: classic (1-octet type and length) or RFC 9072 extended.
  const params: { type: number; value: Uint8Array }[] = [];
  if (optLen === 255 && body[10] === 255) {
    if (body.length < 13) return openErr(0, 'extended optional parameters length truncated');
    const extLen = u16(body, 11);
    if (13 + extLen !== body.length) return openErr(0, `extended optional parameters length ${extLen} does not match the message`);
    let p = 13;
    while (p < body.length) {
      if (p + 3 > body.length) return openErr(0, 'optional parameter header truncated');
      const t = body[p] ?? 0;
      const l = u16(body, p + 1);
      if (p + 3 + l > body.length) return openErr(0, `optional parameter ${t} overruns the message`);
      params.push({ type: t, value: body.subarray(p + 3, p + 3 + l) });
      p += 3 + l;
    }
  } else {
    if (10 + optLen !== body.length) return openErr(0, `optional parameters length ${optLen} does not match the message`);
    let p = 10;
    while (p < body.length) {
      if (p + 2 > body.length) return openErr(0, 'optional parameter header truncated');
      const t = body[p] ?? 0;
      const l = body[p + 1] ?? 0;
      if (p + 2 + l > body.length) return openErr(0, `optional parameter ${t} overruns the message`);
      params.push({ type: t, value: body.subarray(p + 2, p + 2 + l) });
      p += 2 + l;
    }
  }

  const capabilities: Capability[] = [];
  for (const param of params) {
    if (param.type !== 2) {
      return openErr(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unsupported optional parameter type ${param.type}`);
    }
    const v = param.value;
    let p = 0;
    while (p < v.length) {
      if (p + 2 > v.length) return openErr(0, 'capability header truncated');
      const code = v[p] ?? 0;
      const len = v[p + 1] ?? 0;
      if (p + 2 + len > v.length) return openErr(0, `capability ${code} overruns its optional parameter`);
      const c = p + 2;
      p = c + len;
      switch (code) {
        case CapabilityCode.MULTIPROTOCOL:
          if (len !== 4) return openErr(0, `multiprotocol capability with length ${len} (expected 4)`);
          capabilities.push({ code: 1, kind: 'multiprotocol', afi: u16(v, c), safi: v[c + 3] ?? 0 });
          break;
        case CapabilityCode.ROUTE_REFRESH:
        case CapabilityCode.ROUTE_REFRESH_CISCO:
          // The value is defined as empty; anything in it is ignored.
          capabilities.push({ code, kind: 'route-refresh' });
          break;
        case CapabilityCode.EXTENDED_NEXTHOP: {
          // RFC 8950 §3: triples of NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2). Another
          // length is not defined as an error: kept opaque.
          if (len % 6 !== 0) {
            capabilities.push({ code, kind: 'unknown', data: v.slice(c, c + len) });
            break;
          }
          const entries: { afi: number; safi: number; nextHopAfi: number }[] = [];
          for (let q = c; q < c + len; q += 6) entries.push({ afi: u16(v, q), safi: u16(v, q + 2), nextHopAfi: u16(v, q + 4) });
          capabilities.push({ code: 5, kind: 'extended-nexthop', entries });
          break;
        }
        case CapabilityCode.GRACEFUL_RESTART: {
          if (len < 2 || (len - 2) % 4 !== 0) return openErr(0, `graceful-restart capability with length ${len}`);
          const flags = u16(v, c);
          const families: { afi: number; safi: number; forwardingState: boolean }[] = [];
          for (let q = c + 2; q < c + len; q += 4) {
            families.push({ afi: u16(v, q), safi: v[q + 2] ?? 0, forwardingState: ((v[q + 3] ?? 0) & 0x80) !== 0 });
          }
          capabilities.push({
            code: 64,
            kind: 'graceful-restart',
            restartState: (flags & 0x8000) !== 0,
            notification: (flags & 0x4000) !== 0,
            restartTime: flags & 0x0fff,
            families,
          });
          break;
        }
        case CapabilityCode.FOUR_OCTET_AS: {
          if (len !== 4) return openErr(0, `4-octet AS capability with length ${len} (expected 4)`);
          const asn = u32(v, c);
          if (asn === 0) return openErr(OpenSubcode.BAD_PEER_AS, 'AS 0 in the 4-octet AS capability (RFC 7607)');
          capabilities.push({ code: 65, kind: 'four-octet-as', asn });
          break;
        }
        default:
          capabilities.push({ code, kind: 'unknown', data: v.slice(c, c + len) });
      }
    }
  }

  if (myAS === 0) return openErr(OpenSubcode.BAD_PEER_AS, 'AS 0 in OPEN (RFC 7607)', u16Bytes(0));
  if (holdTime === 1 || holdTime === 2) {
    return openErr(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} (must be 0 or >= 3)`);
  }
  if (bgpId === 0) return openErr(OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP identifier 0.0.0.0');

  const message: OpenMessage = { type: 1, version, myAS, holdTime, bgpId, capabilities };
  return { kind: 'ok', message };
}

// ---------------------------------------------------------------------------------------------
// NLRI

// ---------------------------------------------------------------------------------------------
// UPDATE

function uerr(subcode: number, reason: string, data?: Uint8Array): DecodeResult {
  return err(ErrorCode.UPDATE_MESSAGE, subcode, reason, data);
}

function decodeUpdate(body: Uint8Array, opts: CodecOptions): DecodeResult {
  const len = body.length;
  if (len < 4) return badLength(len, 'UPDATE shorter than 23 bytes');
  const wlen = u16(body, 0);
  if (2 + wlen + 2 > len) return uerr(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${wlen} exceeds the message`);
  const tpal = u16(body, 2 + wlen);
  const attrStart = 4 + wlen;
  const attrEnd = attrStart + tpal;
  if (attrEnd > len) return uerr(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${tpal} exceeds the message`);

  const withdrawn: NLRI[] = [];
  const werr = parsePrefixes(body, 2, 2 + wlen, 4, withdrawn);
  if (werr !== undefined) return uerr(UpdateSubcode.INVALID_NETWORK_FIELD, `withdrawn routes: ${werr}`);
  const nlri: NLRI[] = [];
  const nerr = parsePrefixes(body, attrEnd, len, 4, nlri);
  if (nerr !== undefined) return uerr(UpdateSubcode.INVALID_NETWORK_FIELD, `NLRI: ${nerr}`);

  const four = opts.fourOctetAS;
  const attrs: PathAttributes = {};
  const discarded: number[] = [];
  let withdrawReason: string | undefined;
  const seen = new Set<number>();
  const as4: As4Seen = { as4Path: undefined, as4Agg: undefined };

  let p = attrStart;
  while (p < attrEnd) {
    // RFC 7606 §4: an attribute header or value that overruns the attribute list is handled
    // with treat-as-withdraw; the NLRI are located from the Total Path Attribute Length.
    const flags = body[p] ?? 0;
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    const hdr = ext ? 4 : 3;
    if (p + hdr > attrEnd) {
      withdrawReason ??= 'path attribute header overruns the attribute list (RFC 7606 §4)';
      break;
    }
    const type = body[p + 1] ?? 0;
    const alen = ext ? u16(body, p + 2) : (body[p + 2] ?? 0);
    if (p + hdr + alen > attrEnd) {
      withdrawReason ??= `attribute ${type} length ${alen} overruns the attribute list (RFC 7606 §4)`;
      break;
    }
    const whole = body.subarray(p, p + hdr + alen);
    const v = body.subarray(p + hdr, p + hdr + alen);
    p += hdr + alen;

    if (seen.has(type)) {
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        return uerr(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} appears more than once`);
      }
      // RFC 7606 §3.g: later occurrences are discarded.
      discarded.push(type);
      continue;
    }
    seen.add(type);

    if (type === AttrType.LOCAL_PREF && opts.ebgp) {
      discarded.push(type);
      continue;
    }
    const outcome = decodeAttribute(type, flags, v, whole, four, attrs, as4);
    if (outcome === undefined) continue;
    if (outcome.kind === 'reset') return uerr(outcome.subcode, outcome.reason, outcome.data);
    if (outcome.kind === 'withdraw') withdrawReason ??= outcome.reason;
    else discarded.push(type);
  }

  // RFC 6793 §4.2.3: reconcile AS4_AGGREGATOR / AS4_PATH on a session with a 2-octet peer.
  const { as4Path, as4Agg } = as4;
  if (!four) {
    let ignoreAs4Path = false;
    if (attrs.aggregator !== undefined && attrs.aggregator.asn !== AS_TRANS) {
      if (as4Agg !== undefined) discarded.push(AttrType.AS4_AGGREGATOR);
      if (as4Path !== undefined) discarded.push(AttrType.AS4_PATH);
      ignoreAs4Path = true;
    } else if (as4Agg !== undefined) {
      if (attrs.aggregator !== undefined) attrs.aggregator = as4Agg;
      else discarded.push(AttrType.AS4_AGGREGATOR);
    }
    if (as4Path !== undefined && !ignoreAs4Path) {
      const merged = attrs.asPath !== undefined ? mergeAs4Path(attrs.asPath, as4Path) : undefined;
      if (merged === undefined) discarded.push(AttrType.AS4_PATH);
      else attrs.asPath = merged;
    }
  }

  // RFC 7606 §3.d: missing well-known mandatory attributes → treat-as-withdraw. NEXT_HOP is
  // only mandatory with classic NLRI (RFC 4760).
  const hasMpReach = attrs.mpReach !== undefined;
  if (nlri.length > 0 || hasMpReach) {
    const missing: number[] = [];
    if (attrs.origin === undefined && !seen.has(AttrType.ORIGIN)) missing.push(AttrType.ORIGIN);
    if (attrs.asPath === undefined && !seen.has(AttrType.AS_PATH)) missing.push(AttrType.AS_PATH);
    if (nlri.length > 0 && attrs.nextHop === undefined && !seen.has(AttrType.NEXT_HOP)) missing.push(AttrType.NEXT_HOP);
    if (missing.length > 0) withdrawReason ??= `missing well-known attribute ${missing.join(', ')} (3/3)`;
  }

  // Checks that depend on the session (eBGP or not), when the session says which it is.
  if (withdrawReason === undefined && opts.ebgp !== undefined) withdrawReason = checkReceivedAttributes(attrs, { ebgp: opts.ebgp });

  const message: UpdateMessage = { type: 2, withdrawn, attributes: attrs, nlri };
  if (withdrawReason !== undefined) return { kind: 'treat-as-withdraw', message, reason: withdrawReason };
  if (discarded.length > 0) return { kind: 'ok', message, discarded };
  return { kind: 'ok', message };
}
