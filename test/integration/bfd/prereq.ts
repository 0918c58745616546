// What the BFD integration tests need: root + ip + vtysh, FRR's zebra, bfdd and bgpd, and the
// metallb_udp addon. Returns the reason they cannot run here, or undefined.
import { existsSync } from 'node:fs';
import { missing } from '../lib/prereq.ts';
import { tryLoadUdpAddon, UdpAddonError } from '../../../src/native/udp.ts';

export function bfdTestsMissing(): string | undefined {
  const addon = tryLoadUdpAddon();
  const frr = ['/usr/lib/frr/zebra', '/usr/lib/frr/bfdd', '/usr/lib/frr/bgpd'].filter((b) => !existsSync(b));
  return missing(['ip', 'vtysh']) ?? (frr.length > 0 ? `FRR not installed: ${frr.join(', ')}` : undefined) ?? (addon instanceof UdpAddonError ? addon.message : undefined);
}
