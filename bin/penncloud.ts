#!/usr/bin/env node
/** The one PennCloud executable: `penncloud <command> [options]`. */
import { COMMANDS } from '../lib/cli/commands.js';
import { commandHelp, parseArgs, UsageError } from '../lib/cli/command.js';
import { ConfigError } from '../conf/config.js';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = [
    'usage: penncloud <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Every command takes --conf FILE (default conf/local.json), --data DIR (default ./data)',
    'and --help. Run `penncloud <command> --help` for its options.',
  ];
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`penncloud: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command);
    if (args.options.has('help')) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`penncloud ${command.name}: ${err.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`penncloud ${command.name}: bad configuration: ${err.message}\n`);
      return 1;
    }
    // A role that refuses to start says why in one line; the stack is for PENNCLOUD_LOG=debug.
    const detail = process.env.PENNCLOUD_LOG === 'debug' ? (err as Error).stack : (err as Error).message;
    process.stderr.write(`penncloud ${command.name}: ${detail ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`penncloud: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
