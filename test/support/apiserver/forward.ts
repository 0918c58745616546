// TCP → Unix socket forwarder, run inside a test network namespace so that processes there
// reach the test API server (which also listens on a Unix socket) at 127.0.0.1:PORT:
//   ip netns exec NS node --import tsx test/support/apiserver/forward.ts --listen PORT --socket PATH
import net from 'node:net';

const args = process.argv.slice(2);
let port = 0;
let socket = '';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--listen') port = Number(args[++i]);
  else if (args[i] === '--socket') socket = args[++i] ?? '';
}
if (!port || !socket) {
  process.stderr.write('usage: forward.ts --listen PORT --socket PATH\n');
  process.exit(2);
}
const server = net.createServer((c) => {
  const u = net.connect(socket);
  c.pipe(u).pipe(c);
  const end = (): void => {
    c.destroy();
    u.destroy();
  };
  c.on('error', end);
  u.on('error', end);
  c.on('close', end);
  u.on('close', end);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`forwarding 127.0.0.1:${port} -> ${socket}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
