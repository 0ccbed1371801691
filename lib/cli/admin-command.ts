/**
 * `penncloud admin add NAME`: creates the account of an administrator (a name of conf
 * `admins`, which public sign-up refuses). The password comes from a prompt on a terminal,
 * asked twice, or from the first line of standard input otherwise, never from the command line
 * (where other users of the host could read it).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { KvClient } from '../kvclient/kv-client.js';
import { isPennError } from '../protocol/errors.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { UserService } from '../services/user-service.js';
import { UsageError, type Command, type ParsedArgs } from './command.js';
import { loadRoleContext } from './role-context.js';

const USAGE = `add NAME
    add NAME                       create the administrator NAME (listed in conf admins);
                                   the password is prompted for, or read from stdin`;

/** Reads the password: prompted (twice, not echoed) on a terminal, else stdin's first line. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  const first = await prompt('password: ');
  const again = await prompt('password again: ');
  if (first !== again) throw new UsageError('the two passwords differ');
  return first;
}

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing of what is typed after the question.
  const write = (rl as unknown as { _writeToOutput(s: string): void });
  write._writeToOutput = (s: string) => { if (s === question) process.stderr.write(s); };
  try {
    return await rl.question(question);
  } finally {
    process.stderr.write('\n');
    rl.close();
  }
}

async function addAdmin(args: ParsedArgs): Promise<number> {
  const name = args.positionals[1];
  if (name === undefined) throw new UsageError('add needs NAME');
  const { config, secret } = loadRoleContext(args);
  const password = await readPassword();
  const kv = new KvClient({
    secret,
    cluster: config.kv,
    coordinator: config.coordinator,
    valueBytesMax: config.kv.valueBytesMax,
    requestTimeoutMs: config.kv.requestTimeoutMs,
    attemptTimeoutMs: 2 * config.coordinator.failureTimeoutMs,
    readFrom: config.kv.readFrom,
    connectionsPerNode: 1,
  });
  try {
    const account = await new UserService(kv, new LoginThrottle(kv), Date.now, config.admins).createAdmin(name, password);
    process.stdout.write(`created administrator "${account.username}"\n`);
    return 0;
  } catch (err) {
    if (!isPennError(err)) throw err;
    process.stderr.write(`penncloud admin: ${err.code}: ${err.message}\n`);
    return 1;
  } finally {
    kv.close();
  }
}

/** `penncloud admin add NAME`. */
export const adminCommand: Command = {
  name: 'admin',
  summary: 'create administrator accounts',
  usage: USAGE,
  options: [],
  async run(args) {
    const verb = args.positionals[0];
    if (verb === 'add') return addAdmin(args);
    throw new UsageError(verb === undefined ? 'missing verb' : `unknown verb "${verb}"`);
  },
};
