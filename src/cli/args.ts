// The one command-line parser of every `metallb-ts` subcommand. Options are declared once in
// OPTIONS, so a flag is spelled the same in every command (`--load-balancer-class` everywhere;
// old spellings such as `--lb-class` and `--file` stay accepted as hidden aliases). Accepted
// forms: `--name value`, `--name=value`, `-x value`, boolean `--flag`; unknown options are
// usage errors. The parser decides nothing from message text: a failure is a UsageError.

export interface OptionSpec {
  /** Takes a value (otherwise a boolean flag). */
  value: boolean;
  /** One-letter form, e.g. `-f`. */
  short?: string;
  /** Old spellings still accepted (not shown in help), e.g. `--lb-class`. */
  aliases?: string[];
  /** May be given more than once (all values kept in order). */
  multiple?: boolean;
}

/** Every option of every subcommand, under its canonical spelling. */
export const OPTIONS = {
  '--filename': { value: true, short: '-f', aliases: ['--file'], multiple: true },
  '--output': { value: true, short: '-o' },
  '--namespace': { value: true, short: '-n' },
  '--node': { value: true, aliases: ['--node-name'] },
  '--node-name': { value: true, aliases: ['--node'] },
  '--node-address': { value: true },
  '--load-balancer-class': { value: true, aliases: ['--lb-class'] },
  '--router-id': { value: true },
  '--route-table': { value: true },
  '--state': { value: true },
  '--http-listen': { value: true },
  '--log-format': { value: true },
  '--log-level': { value: true },
  '--kubeconfig': { value: true },
  '--identity': { value: true },
  '--disable-leader-election': { value: false },
  '--lease-name': { value: true },
  '--lease-duration': { value: true },
  '--renew-deadline': { value: true },
  '--retry-period': { value: true },
  '--workers': { value: true },
  '--ml-bind-addr': { value: true },
  '--ml-bind-port': { value: true },
  '--ml-secret-name': { value: true },
  '--l2-partition-policy': { value: true },
  '--webhook-listen': { value: true },
  '--webhook-cert-dir': { value: true },
  '--webhook-secret': { value: true },
  '--cert-service-name': { value: true },
  '--webhook-configuration': { value: true, multiple: true },
  '--disable-cert-rotation': { value: false },
  '--ca-validity': { value: true },
  '--cert-validity': { value: true },
  '--cert-renew-before': { value: true },
  '--drain-period': { value: true },
  '--withdraw-on-stop': { value: false },
  '--restart-marker': { value: true },
  '--http': { value: true },
  '--period': { value: true },
  '--stop': { value: false },
  '--undo': { value: false },
  '--diff': { value: false },
  '--current': { value: true, multiple: true },
  '--full': { value: false },
  '--this-host': { value: false },
  '--status': { value: true, multiple: true },
  '--local-checks': { value: false },
  '--router-config': { value: true, multiple: true },
  '--fail-on': { value: true },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** The options a command takes, each as declared in OPTIONS. */
export function pick<K extends OptionName>(...names: K[]): Record<K, OptionSpec> {
  const out = {} as Record<K, OptionSpec>;
  for (const n of names) out[n] = OPTIONS[n];
  return out;
}

/** A wrong command line: the command prints it with its usage and exits 2. */
export class UsageError {
  readonly code = 'usage' as const;
  constructor(readonly message: string) {}
}

export interface ParsedArgs {
  help?: false;
  /** last value of each option given (canonical name) */
  values: Map<string, string>;
  /** every value of each option given, in order (canonical name) */
  lists: Map<string, string[]>;
  /** boolean flags given (canonical name) */
  flags: Set<string>;
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs | { help: true } | UsageError {
  const byName = new Map<string, [string, OptionSpec]>();
  for (const [name, s] of Object.entries(spec)) {
    byName.set(name, [name, s]);
    if (s.short !== undefined) byName.set(s.short, [name, s]);
    for (const a of s.aliases ?? []) byName.set(a, [name, s]);
  }
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') return { help: true };
    let written = a;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      written = a.slice(0, eq);
      value = a.slice(eq + 1);
    }
    const hit = byName.get(written);
    if (!hit) return new UsageError(a.startsWith('-') ? `unknown option "${a}"` : `unexpected argument "${a}"`);
    const [name, s] = hit;
    if (!s.value) {
      if (value !== undefined) return new UsageError(`option ${written} takes no value`);
      flags.add(name);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) return new UsageError(`option ${written} needs a value`);
    }
    values.set(name, value);
    const l = lists.get(name);
    if (l) l.push(value);
    else lists.set(name, [value]);
  }
  return { values, lists, flags };
}

/** A positive number of seconds (fractions allowed), or an error message. */
export function parseSeconds(name: string, v: string | undefined, dflt: number): number | string {
  if (v === undefined) return dflt;
  const n = Number(v.endsWith('s') ? v.slice(0, -1) : v);
  if (!Number.isFinite(n) || n <= 0) return `option ${name}: "${v}" is not a positive number of seconds`;
  return n;
}

/** `--route-table ID`: a routing table id (1..2^32-2, not 255 = local); undefined when absent. */
export function parseRouteTable(v: string | undefined): number | undefined | string {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !(n >= 1 && n <= 0xfffffffe) || n === 255) return `--route-table: want a table id 1..4294967294 other than 255 (local), got "${v}"`;
  return n;
}
