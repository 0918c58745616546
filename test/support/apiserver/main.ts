// Runs the fake API server as a process: `node --import tsx test/support/apiserver/main.ts
// [--kubeconfig FILE] [--port N]`. Prints `{"url": ...}` on stdout once listening; stops on
// SIGTERM/SIGINT.
import { FakeApiServer } from './server.ts';

const args = process.argv.slice(2);
let kubeconfig: string | undefined;
let port = 0;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--kubeconfig') kubeconfig = args[++i];
  else if (args[i] === '--port') port = Number(args[++i]);
}
const server = await FakeApiServer.start({ port });
if (kubeconfig) server.writeKubeconfig(kubeconfig);
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
