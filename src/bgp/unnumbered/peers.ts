// Which link-local address is "the peer" on an unnumbered interface. Pure, with the time passed
// in. Unnumbered BGP is point to point: the first router heard on the link is the peer, and it
// stays the peer while it keeps advertising (a BGP session does not need RAs to stay up, so
// silence alone never drops it). Another router replaces it only after the current one has
// been silent for `holdMs` (the router was replaced or renumbered its link-local address).

import { formatIP, type IP } from '../../ip/index.ts';

export interface HeardRouter {
  address: IP;
  /** Clock ms of the last advertisement. */
  lastHeard: number;
}

export class LinkPeerTable {
  private readonly heardFrom = new Map<string, HeardRouter>();
  private current: HeardRouter | undefined;

  constructor(private readonly holdMs: number) {}

  /** The peer's link-local address, once one router was heard. */
  get peer(): IP | undefined {
    return this.current?.address;
  }

  /** An advertisement from `address` at `now`; true when the peer changed. */
  heard(address: IP, now: number): boolean {
    const key = formatIP(address);
    const entry = this.heardFrom.get(key) ?? { address, lastHeard: now };
    entry.lastHeard = now;
    this.heardFrom.set(key, entry);
    const cur = this.current;
    if (cur === undefined || (cur !== entry && now - cur.lastHeard > this.holdMs)) {
      this.current = entry;
      for (const [k, e] of this.heardFrom) if (e !== entry && now - e.lastHeard > this.holdMs) this.heardFrom.delete(k);
      return true;
    }
    return false;
  }

  /** Every router heard within `holdMs` of `now` (the peer first). */
  routers(now: number): HeardRouter[] {
    const out = [...this.heardFrom.values()].filter((e) => e === this.current || now - e.lastHeard <= this.holdMs);
    return out.sort((a, b) => (a === this.current ? -1 : b === this.current ? 1 : b.lastHeard - a.lastHeard));
  }
}
