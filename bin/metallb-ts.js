#!/usr/bin/env node
// Entry point of the `metallb-ts` command. Runs the compiled CLI from dist/ when it has been
// built (`npm run build`); in a source checkout without a build it loads the TypeScript
// sources through tsx so that `./bin/metallb-ts.js` always works.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
if (existsSync(built) && !process.env.METALLB_TS_FROM_SOURCE) {
  const { main } = await import(pathToFileURL(built).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  process.exitCode = await main(process.argv.slice(2));
}
