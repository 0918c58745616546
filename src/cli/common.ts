// Pieces shared by the file-reading subcommands (`validate`, `convert`): the "never a stack
// trace" wrapper, `-f PATH... [-h]` parsing with command-specific string options, and the
// check for unreadable inputs.

import { parseArgs } from 'node:util';
import type { Diagnostic } from '../config/types.ts';

/** Runs a subcommand body; an unexpected exception becomes one line on stderr and exit 2. */
export function runGuarded(command: string, body: () => number): number {
  try {
    return body();
  } catch (err) {
    // never a stack trace: one line, exit 2
    process.stderr.write(`metallb-ts ${command}: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

/** A string option with a default, e.g. `{ short: 'o', default: 'text' }`. */
export interface StringOption {
  short: string;
  default: string;
}

export type FileArgs<K extends string> =
  | { paths: string[]; values: Record<K, string> }
  /** help printed, or a usage error reported: the exit code */
  | { exit: number };

/**
 * Parses `-f/--filename PATH` (repeatable, at least one required), `-h/--help` and the given
 * string options. Usage errors are written to stderr with the usage text (exit 2); `--help`
 * prints the usage to stdout (exit 0).
 */
export function parseFileArgs<K extends string>(
  command: string,
  usage: string,
  argv: string[],
  extra: Record<K, StringOption>,
): FileArgs<K> {
  const options: Record<string, { type: 'string' | 'boolean'; short: string; multiple?: boolean; default?: string }> = {
    filename: { type: 'string', short: 'f', multiple: true },
  };
  for (const [name, o] of Object.entries<StringOption>(extra)) options[name] = { type: 'string', short: o.short, default: o.default };
  options['help'] = { type: 'boolean', short: 'h' };
  let parsed: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    process.stderr.write(`metallb-ts ${command}: ${(err as Error).message}\n${usage}\n`);
    return { exit: 2 };
  }
  if (parsed['help']) {
    process.stdout.write(usage + '\n');
    return { exit: 0 };
  }
  const f = parsed['filename'];
  const paths = Array.isArray(f) ? f.filter((p): p is string => typeof p === 'string') : [];
  if (paths.length === 0) {
    process.stderr.write(`metallb-ts ${command}: at least one -f PATH is required\n${usage}\n`);
    return { exit: 2 };
  }
  const values: Record<string, string> = {};
  for (const [name, o] of Object.entries<StringOption>(extra)) {
    const v = parsed[name];
    values[name] = typeof v === 'string' ? v : o.default;
  }
  return { paths, values: values as Record<K, string> };
}

/** True when some input path could not be read at all (readInputs reports those at line 0). */
export function hasUnreadableInput(errors: readonly Diagnostic[]): boolean {
  return errors.some((e) => e.line === 0 && e.message.startsWith('cannot read:'));
}
