// Test helper run inside a network namespace: prints the interface snapshot and the selection
// for the IPs given as arguments ("IP" or "IP=if1,if2" for configured interfaces), as JSON.
import { readInterfaceSnapshot } from '../../../src/layer2/sysnet.ts';
import { selectInterfaces } from '../../../src/layer2/interfaces.ts';

const snap = readInterfaceSnapshot();
const selections: Record<string, ReturnType<typeof selectInterfaces>> = {};
for (const arg of process.argv.slice(2)) {
  const [ip = '', ifs = ''] = arg.split('=');
  selections[arg] = selectInterfaces(ip, ifs ? ifs.split(',') : [], snap);
}
process.stdout.write(JSON.stringify({ snap, selections }));
