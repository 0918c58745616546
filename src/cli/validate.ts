// `metallb-ts validate -f PATH [-f PATH ...] [-o text|json]`
// Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable input.

import { readInputs } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import { hasUnreadableInput, parseFileArgs, runGuarded } from './common.ts';
import type { Diagnostic } from '../config/types.ts';

export const USAGE = `usage: metallb-ts validate -f PATH [-f PATH ...] [-o text|json]

Checks MetalLB configuration: metallb.io CRDs (IPAddressPool, BGPPeer, BGPAdvertisement,
L2Advertisement, Community, BFDProfile) and legacy ConfigMaps. PATH is a file or a folder
(read recursively: *.yaml, *.yml, *.json; multi-document YAML). Service, Node, EndpointSlice,
Namespace and Secret objects are accepted and ignored.

options:
  -f, --filename PATH   file or folder to read (repeatable)
  -o, --output FORMAT   text (default) or json
  -h, --help            show this help

exit status: 0 valid, 1 invalid, 2 usage error or unreadable input`;

function jsonDiag(d: Diagnostic): Record<string, unknown> {
  return { file: d.file, line: d.line, kind: d.kind, name: d.name, field: d.field, message: d.message, ...(d.code !== undefined ? { code: d.code } : {}) };
}

export async function run(argv: string[]): Promise<number> {
  return runGuarded('validate', () => runInner(argv));
}

function runInner(argv: string[]): number {
  const args = parseFileArgs('validate', USAGE, argv, { '--output': 'text' });
  if ('exit' in args) return args.exit;
  const { paths, values } = args;
  if (values['--output'] !== 'text' && values['--output'] !== 'json') {
    process.stderr.write(`metallb-ts validate: -o must be text or json, got "${values['--output']}"\n`);
    return 2;
  }
  const set = readInputs(paths);
  const unreadable = hasUnreadableInput(set.errors);
  const valid = set.errors.length === 0;
  if (values['--output'] === 'json') {
    process.stdout.write(
      JSON.stringify({ valid, errors: set.errors.map(jsonDiag), warnings: set.warnings.map(jsonDiag) }, null, 2) + '\n',
    );
  } else {
    for (const e of set.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
    for (const w of set.warnings) process.stderr.write(`${formatDiagnostic({ ...w, message: `warning: ${w.message}` })}\n`);
    // an empty folder or a folder of *.txt files is almost always a wrong path: say so
    if (set.objects.length === 0 && set.errors.length === 0) {
      process.stderr.write(`metallb-ts validate: warning: no objects found in ${paths.join(', ')} (folders are read for *.yaml, *.yml, *.json)\n`);
    }
    if (valid && set.config) {
      const c = set.config;
      process.stdout.write(
        `valid: ${set.objects.length} objects; ${c.pools.length} pools, ${c.peers.length} peers, ` +
          `${c.bgpAdvertisements.length} BGP advertisements, ${c.l2Advertisements.length} L2 advertisements, ` +
          `${c.bfdProfiles.length} BFD profiles, ${Object.keys(c.communityAliases).length} community aliases` +
          (set.warnings.length ? `, ${set.warnings.length} warnings` : '') +
          '\n',
      );
    } else {
      process.stdout.write(`invalid: ${set.errors.length} error${set.errors.length === 1 ? '' : 's'}\n`);
    }
  }
  if (unreadable) return 2;
  return valid ? 0 : 1;
}
