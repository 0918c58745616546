// `metallb-ts convert -f LEGACY.yaml [--namespace NS]`: prints the metallb.io CRDs equivalent
// to a legacy MetalLB ConfigMap (or bare legacy config file).
// Exit codes: 0 converted, 1 invalid input, 2 usage error or unreadable input.

import { convertLegacy, legacyDocuments } from '../config/convert.ts';
import { readInputs } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import { hasUnreadableInput, parseFileArgs, runGuarded } from './common.ts';

export const USAGE = `usage: metallb-ts convert -f LEGACY.yaml [-f ...] [--namespace NS]

Prints the metallb.io CRD manifests equivalent to a legacy MetalLB ConfigMap (data.config)
or a bare legacy config file (peers, address-pools, bgp-communities, bfd-profiles).

options:
  -f, --filename PATH    legacy configuration file or folder (repeatable)
  -n, --namespace NS     namespace of the generated objects (default metallb-system)
  -h, --help             show this help`;

export async function run(argv: string[]): Promise<number> {
  return runGuarded('convert', () => runInner(argv));
}

function runInner(argv: string[]): number {
  const args = parseFileArgs('convert', USAGE, argv, { '--namespace': 'metallb-system' });
  if ('exit' in args) return args.exit;
  const { paths, values } = args;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values['--namespace'])) {
    process.stderr.write(`metallb-ts convert: invalid namespace "${values['--namespace']}"\n`);
    return 2;
  }
  const set = readInputs(paths);
  if (set.errors.length > 0) {
    for (const e of set.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
    return hasUnreadableInput(set.errors) ? 2 : 1;
  }
  if (legacyDocuments(set).length === 0) {
    process.stderr.write('metallb-ts convert: no legacy configuration (ConfigMap with data.config) found in the input\n');
    return 1;
  }
  process.stdout.write(convertLegacy(set, values['--namespace']));
  return 0;
}
