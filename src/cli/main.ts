// `metallb-ts` command dispatcher. Each subcommand lives in its own module and exports
// `run(argv): Promise<number>` returning the process exit code.

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'check MetalLB configuration files', load: async () => (await import('./validate.ts')).run },
  convert: { summary: 'convert a legacy ConfigMap to metallb.io CRDs', load: async () => (await import('./convert.ts')).run },
  plan: { summary: 'show which IP each Service gets and what every router receives', load: async () => (await import('./plan.ts')).run },
  doctor: { summary: 'find topology and operational problems (iBGP chains, duplicate sessions, ...)', load: async () => (await import('./doctor.ts')).run },
  standalone: { summary: 'run allocator + speaker on this machine from a folder of YAML', load: async () => (await import('./standalone.ts')).run },
  controller: { summary: 'run the Kubernetes controller (IP assignment)', load: async () => (await import('./controller.ts')).run },
  speaker: { summary: 'run the Kubernetes speaker (BGP / Layer 2 announcements)', load: async () => (await import('./speaker.ts')).run },
  drain: { summary: 'drain a running standalone (GRACEFUL_SHUTDOWN, then withdraw)', load: async () => (await import('./drain.ts')).run },
};

export function usage(): string {
  const lines = ['usage: metallb-ts <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${c.summary}`);
  lines.push('', 'Run `metallb-ts <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    // no command: a usage error (exit 2), so the usage goes to stderr
    process.stderr.write(usage() + '\n');
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    // `metallb-ts help plan` = `metallb-ts plan --help`
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic]) return main([topic, '--help']);
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (name === '--version') {
    process.stdout.write('metallb-ts 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`metallb-ts: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(`metallb-ts: command "${name}" is not available in this build\n`);
      return 2;
    }
    // never a stack trace for the user (set METALLB_TS_DEBUG=1 to see it)
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`metallb-ts ${name}: error: ${msg}\n`);
    if (process.env['METALLB_TS_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
