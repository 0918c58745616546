// Runs the test API server as a process: `node --import tsx test/support/apiserver/main.ts
// [--kubeconfig FILE] [--port N] [--request-latency-ms MS|MIN-MAX] [--list-latency-ms MS|MIN-MAX]
// [--shuffle-lists]`. Prints `{"url": ...}` on stdout once listening; stops on SIGTERM/SIGINT.
import { FakeApiServer } from './server.ts';

function latency(v: string | undefined): number | [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) throw new Error(`latency "${v}": want MS or MIN-MAX`);
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

const args = process.argv.slice(2);
let kubeconfig: string | undefined;
let port = 0;
let requestLatencyMs: number | [number, number] | undefined;
let listLatencyMs: number | [number, number] | undefined;
let shuffleLists = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--kubeconfig') kubeconfig = args[++i];
  else if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--request-latency-ms') requestLatencyMs = latency(args[++i]);
  else if (args[i] === '--list-latency-ms') listLatencyMs = latency(args[++i]);
  else if (args[i] === '--shuffle-lists') shuffleLists = true;
}
const server = await FakeApiServer.start({
  port,
  historyLimit: 200000,
  ...(requestLatencyMs !== undefined ? { requestLatencyMs } : {}),
  ...(listLatencyMs !== undefined ? { listLatencyMs } : {}),
  shuffleLists,
});
if (kubeconfig) server.writeKubeconfig(kubeconfig);
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
