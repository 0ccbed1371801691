/** What every `penncloud` subcommand provides. */
export interface CommandOption {
  /** Long name without dashes, e.g. "id". */
  name: string;
  /** Placeholder for the value, e.g. "N"; absent for a flag. */
  value?: string;
  description: string;
}

export interface ParsedArgs {
  /** Options by long name; flags map to true. Repeated options keep the last value. */
  options: Map<string, string | true>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for `penncloud --help`. */
  summary: string;
  /** The argument synopsis after the command name, e.g. "--id N". */
  usage: string;
  options: CommandOption[];
  /** Runs the command; resolves with the process exit code (long-running roles never resolve). */
  run(args: ParsedArgs): Promise<number>;
}

/** Options every role takes. */
export const COMMON_OPTIONS: CommandOption[] = [
  { name: 'conf', value: 'FILE', description: 'configuration file (default conf/local.json)' },
  { name: 'data', value: 'DIR', description: 'data directory (default ./data)' },
  { name: 'secret-file', value: 'FILE', description: 'cluster secret (default: conf "secretFile", else DIR/cluster.secret, made if missing)' },
  { name: 'help', description: 'show this help' },
];

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Splits argv into options and positionals; `--x=v`, `--x v` and flags are accepted. */
export function parseArgs(argv: readonly string[], command: Command): ParsedArgs {
  const known = new Map([...COMMON_OPTIONS, ...command.options].map((o) => [o.name, o]));
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = known.get(name);
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    if (spec.value === undefined) {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value (${spec.value})`);
    options.set(name, value);
  }
  return { options, positionals };
}

/** The value of a string option, or the fallback. */
export function stringOption(args: ParsedArgs, name: string, fallback: string): string {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : fallback;
}

/** A required integer option such as `--id N`. */
export function intOption(args: ParsedArgs, name: string, fallback?: number): number {
  const v = args.options.get(name);
  if (v === undefined || v === true) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`option --${name} is required`);
  }
  if (!/^-?\d+$/.test(v)) throw new UsageError(`option --${name} must be an integer, got "${v}"`);
  return Number(v);
}

/** The help text of one command. */
export function commandHelp(command: Command): string {
  const lines = [`usage: penncloud ${command.name} ${command.usage}`.trimEnd(), '', command.summary, '', 'options:'];
  for (const o of [...command.options, ...COMMON_OPTIONS]) {
    const left = `  --${o.name}${o.value ? ` ${o.value}` : ''}`;
    lines.push(`${left.padEnd(24)} ${o.description}`);
  }
  return lines.join('\n') + '\n';
}
