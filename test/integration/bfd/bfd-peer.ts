// Test helper process: runs our BfdManager (src/bfd) with the sessions given as JSON in argv[2]
// and writes its status + drop counters to the file argv[3] (atomically, on every state change
// and every 50 ms), so a test can SIGSTOP this process and watch the router's side.
import { renameSync, writeFileSync } from 'node:fs';
import { BfdManager, type BfdPeerSpec } from '../../../src/bfd/manager.ts';

const specs = JSON.parse(process.argv[2] ?? '[]') as BfdPeerSpec[];
const out = process.argv[3] ?? '/dev/null';
const log = {
  info: (o: object, m: string) => console.log(JSON.stringify({ msg: m, ...o, t: Date.now() })),
  warn: (o: object, m: string) => console.log(JSON.stringify({ level: 'warn', msg: m, ...o })),
  debug: (o: object, m: string) => console.log(JSON.stringify({ level: 'debug', msg: m, ...o })),
};
const m = new BfdManager({ log, onStateChange: () => write() });
function write(): void {
  writeFileSync(out + '.tmp', JSON.stringify({ at: Date.now(), sessions: m.status(), drops: m.drops() }));
  renameSync(out + '.tmp', out);
}
m.sync(specs);
const timer = setInterval(write, 50);
process.on('SIGTERM', () => {
  clearInterval(timer);
  m.close();
  write();
  process.exit(0);
});
