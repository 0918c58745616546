// Command-line parsing shared by `metallb-ts controller` and `metallb-ts speaker`:
// `--name value`, `--name=value` and boolean `--flag`. Unknown options are errors.

export interface OptionSpec {
  /** Takes a value (otherwise a boolean flag). */
  value: boolean;
}

export type ParsedArgs = { help: true } | { values: Map<string, string>; flags: Set<string> };

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs | string {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') return { help: true };
    let name = a;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      name = a.slice(0, eq);
      value = a.slice(eq + 1);
    }
    const s = spec[name];
    if (!s) return `unknown option "${a}"`;
    if (!s.value) {
      if (value !== undefined) return `option ${name} takes no value`;
      flags.add(name);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) return `option ${name} needs a value`;
    }
    values.set(name, value);
  }
  return { values, flags };
}

/** A positive number of seconds (fractions allowed), or an error message. */
export function parseSeconds(name: string, v: string | undefined, dflt: number): number | string {
  if (v === undefined) return dflt;
  const n = Number(v.endsWith('s') ? v.slice(0, -1) : v);
  if (!Number.isFinite(n) || n <= 0) return `option ${name}: "${v}" is not a positive number of seconds`;
  return n;
}
