// OPEN message construction and validation / capability negotiation (RFC 4271 §6.2, RFC 5492,
// RFC 4760, RFC 6793, RFC 2918, RFC 4724). Pure.

import type { AfiSafi, Capability, NotificationMessage, OpenMessage } from '../codec/messages.ts';
import { ErrorCode, OpenSubcode } from '../codec/messages.ts';
import type { Negotiated, SessionConfig } from './types.ts';

export const AS_TRANS = 23456;
export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;
export const IPV4_UNICAST: AfiSafi = { afi: AFI_IPV4, safi: SAFI_UNICAST };
export const IPV6_UNICAST: AfiSafi = { afi: AFI_IPV6, safi: SAFI_UNICAST };
/** RFC 8950 capability entry: IPv4 unicast NLRI with IPv6 next hops. */
export const IPV4_OVER_IPV6 = { afi: AFI_IPV4, safi: SAFI_UNICAST, nextHopAfi: AFI_IPV6 } as const;

export function notification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationMessage {
  return { type: 3, code, subcode, data };
}

/** Our OPEN for a session configuration. */
export function buildOpen(cfg: SessionConfig): OpenMessage {
  const caps: Capability[] = [];
  for (const f of cfg.families) caps.push({ code: 1, kind: 'multiprotocol', afi: f.afi, safi: f.safi });
  if (cfg.extendedNextHop === true) caps.push({ code: 5, kind: 'extended-nexthop', entries: [IPV4_OVER_IPV6] });
  caps.push({ code: 2, kind: 'route-refresh' });
  caps.push({ code: 65, kind: 'four-octet-as', asn: cfg.localASN });
  const gr = cfg.gracefulRestart;
  if (gr) {
    caps.push({
      code: 64,
      kind: 'graceful-restart',
      restartState: gr.restarting === true,
      notification: gr.notification ?? true,
      restartTime: Math.min(4095, Math.max(0, Math.floor(gr.restartTime))),
      families: cfg.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: gr.forwarding ?? true })),
    });
  }
  return {
    type: 1,
    version: 4,
    myAS: cfg.localASN > 0xffff ? AS_TRANS : cfg.localASN,
    holdTime: cfg.holdTime,
    bgpId: cfg.routerId >>> 0,
    capabilities: caps,
  };
}

export type OpenCheck = { ok: true; negotiated: Negotiated } | { ok: false; notification: NotificationMessage; reason: string };

function sameFamily(a: AfiSafi, b: AfiSafi): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

export function formatBgpId(id: number): string {
  return [id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff].join('.');
}

/** Validate the peer's OPEN against our configuration and negotiate the session parameters. */
export function checkOpen(cfg: SessionConfig, open: OpenMessage): OpenCheck {
  if (open.version !== 4) {
    return {
      ok: false,
      notification: notification(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION, new Uint8Array([0, 4])),
      reason: `unsupported BGP version ${open.version}`,
    };
  }
  let fourOctet: number | undefined;
  let peerRouteRefresh = false;
  let peerGR = false;
  let peerGRNotification = false;
  let peerRestarted = false;
  let peerExtendedNextHop = false;
  let peerRestartTime = 0;
  let peerGRFamilies: { afi: number; safi: number; forwardingState: boolean }[] = [];
  const peerFamilies: AfiSafi[] = [];
  for (const c of open.capabilities) {
    if (c.kind === 'four-octet-as') fourOctet = c.asn;
    else if (c.kind === 'route-refresh') peerRouteRefresh = true;
    else if (c.kind === 'graceful-restart') {
      peerGR = true;
      peerGRNotification = c.notification === true;
      peerRestarted = c.restartState;
      peerRestartTime = c.restartTime;
      peerGRFamilies = c.families;
    }
    else if (c.kind === 'multiprotocol') peerFamilies.push({ afi: c.afi, safi: c.safi });
    else if (c.kind === 'extended-nexthop') {
      peerExtendedNextHop ||= c.entries.some((e) => e.afi === IPV4_OVER_IPV6.afi && e.safi === IPV4_OVER_IPV6.safi && e.nextHopAfi === IPV4_OVER_IPV6.nextHopAfi);
    }
  }
  const peerASN = fourOctet ?? open.myAS;
  const localASN = cfg.localASN;
  const badAS = (reason: string): OpenCheck => ({
    ok: false,
    notification: notification(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS),
    reason,
  });
  if (peerASN === 0) return badAS('peer AS 0 is reserved (RFC 7607)');
  if (cfg.peerASN !== 0) {
    if (peerASN !== cfg.peerASN) return badAS(`peer AS ${peerASN} does not match configured peerASN ${cfg.peerASN}`);
  } else if (cfg.dynamicASN === 'internal' && peerASN !== localASN) {
    return badAS(`peer AS ${peerASN} is not internal (local AS ${localASN}, dynamicASN internal)`);
  } else if (cfg.dynamicASN === 'external' && peerASN === localASN) {
    return badAS(`peer AS ${peerASN} is not external (dynamicASN external)`);
  }
  const bgpId = open.bgpId >>> 0;
  if (bgpId === 0 || bgpId === 0xffffffff || bgpId === cfg.routerId >>> 0) {
    return {
      ok: false,
      notification: notification(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_IDENTIFIER),
      reason: bgpId === cfg.routerId >>> 0 ? `peer BGP identifier ${formatBgpId(bgpId)} equals ours` : `invalid peer BGP identifier ${formatBgpId(bgpId)}`,
    };
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return {
      ok: false,
      notification: notification(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME),
      reason: `unacceptable hold time ${open.holdTime}`,
    };
  }
  const holdTime = Math.min(cfg.holdTime, open.holdTime);
  let keepaliveTime = 0;
  if (holdTime > 0) {
    let ka = cfg.keepaliveTime && cfg.keepaliveTime > 0 ? cfg.keepaliveTime : Math.floor(holdTime / 3);
    if (ka >= holdTime) ka = Math.floor(holdTime / 3);
    keepaliveTime = Math.max(1, ka);
  }
  // RFC 4760 §8: a peer without any multiprotocol capability speaks IPv4 unicast only.
  const theirs = peerFamilies.length > 0 ? peerFamilies : [IPV4_UNICAST];
  const families = cfg.families.filter((f) => theirs.some((t) => sameFamily(t, f)));
  return {
    ok: true,
    negotiated: {
      peerASN,
      peerRouterId: bgpId,
      holdTime,
      keepaliveTime,
      families,
      fourOctetAS: fourOctet !== undefined,
      peerRouteRefresh,
      gracefulRestart: cfg.gracefulRestart !== undefined && peerGR,
      gracefulNotification: cfg.gracefulRestart !== undefined && (cfg.gracefulRestart.notification ?? true) && peerGR && peerGRNotification,
      extendedNextHop: cfg.extendedNextHop === true && peerExtendedNextHop,
      restarted: cfg.gracefulRestart?.restarting === true,
      peerRestarted: peerGR && peerRestarted,
      ...(cfg.gracefulRestart !== undefined && peerGR
        ? {
            peerGracefulRestart: {
              restartTime: peerRestartTime,
              families: families.filter((f) => peerGRFamilies.some((t) => sameFamily(t, f))),
              forwarding: families.filter((f) => peerGRFamilies.some((t) => t.forwardingState && sameFamily(t, f))),
            },
          }
        : {}),
    },
  };
}

/**
 * Connection collision resolution (RFC 4271 §6.8): which of two connections to the same peer
 * survives. The connection initiated by the speaker with the higher BGP identifier is kept.
 */
export function collisionSurvivor(localId: number, remoteId: number): 'locally-initiated' | 'remotely-initiated' {
  return localId >>> 0 > remoteId >>> 0 ? 'locally-initiated' : 'remotely-initiated';
}
