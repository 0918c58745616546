// The lab most standalone tests start from: one DUT namespace and a BIRD router (AS 64600) in
// the router namespace with one eBGP neighbor "dut" at the DUT's IPv4 address (AS 64700).
import { join } from 'node:path';
import { Lab } from './netns.ts';
import { Bird } from './routers.ts';

export async function startBirdLab(label: string, opts: { birdConnects?: boolean } = {}): Promise<{ lab: Lab; bird: Bird }> {
  const lab = new Lab(label).setup();
  const a = lab.addr;
  const bird = new Bird({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'bird'),
    asn: 64600,
    routerId: a.rtr4[0] ?? '',
    listen4: a.rtr4,
    listen6: a.rtr6,
    // birdConnects: BIRD opens the connection (our side is passive)
    neighbors: [{ name: 'dut', address: a.dut4[0] ?? '', asn: 64700, ...(opts.birdConnects ? { passive: false } : {}) }],
  });
  await bird.start();
  return { lab, bird };
}
