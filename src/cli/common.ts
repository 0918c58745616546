// Pieces shared by the file-reading subcommands (`validate`, `convert`, `plan`): the "never a
// stack trace" wrapper, `-f PATH... [-h]` parsing (on the one parser, ./args.ts) with
// command-specific options, and the check for unreadable inputs.

import type { Diagnostic } from '../config/types.ts';
import { parseArgs, pick, UsageError, type OptionName } from './args.ts';

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

export type FileArgs<K extends string> =
  | { paths: string[]; values: Record<K, string> }
  /** help printed, or a usage error reported: the exit code */
  | { exit: number };

/**
 * Parses `-f/--filename PATH` (repeatable, at least one required), `-h/--help` and the given
 * options (each with its default). Usage errors are written to stderr with the usage text
 * (exit 2); `--help` prints the usage to stdout (exit 0).
 */
export function parseFileArgs<K extends OptionName>(command: string, usage: string, argv: string[], defaults: Record<K, string>): FileArgs<K> {
  const names = Object.keys(defaults) as K[];
  const p = parseArgs(argv, pick<OptionName>('--filename', ...names));
  if (p instanceof UsageError) return usageError(command, usage, p.message);
  if (p.help) {
    process.stdout.write(usage + '\n');
    return { exit: 0 };
  }
  const paths = p.lists.get('--filename') ?? [];
  if (paths.length === 0) return usageError(command, usage, 'at least one -f PATH is required');
  const values = {} as Record<K, string>;
  for (const n of names) values[n] = p.values.get(n) ?? defaults[n];
  return { paths, values };
}

/** Writes a usage error (with the usage text) to stderr: exit 2. */
export function usageError(command: string, usage: string, message: string): { exit: 2 } {
  process.stderr.write(`metallb-ts ${command}: ${message}\n${usage.endsWith('\n') ? usage : usage + '\n'}`);
  return { exit: 2 };
}

/** True when some input path could not be read at all (decided by the diagnostic's code). */
export function hasUnreadableInput(errors: readonly Diagnostic[]): boolean {
  return errors.some((e) => e.code === 'unreadable');
}
