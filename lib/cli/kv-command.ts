/**
 * `penncloud kv get|put|cput|del|rows|cols|status ...`: a command-line client of the store,
 * for people debugging it. Routed by the configuration unless `--node host:port` aims it.
 */
import { readFileSync } from 'node:fs';
import { KvClient, type NodeAddress } from '../kvclient/kv-client.js';
import { isPennError } from '../protocol/errors.js';
import { stringOption, intOption, UsageError, type Command, type ParsedArgs } from './command.js';
import { loadRoleContext } from './role-context.js';

const USAGE = `<get|put|cput|del|rows|cols|status> ...
    get ROW COL                    print the value (raw, or --hex)
    put ROW COL [VALUE|-]          store VALUE, --file F, or stdin ('-' or no VALUE)
    cput ROW COL [NEW|-]           store only if the cell holds --old V / --old-file F,
                                   or is absent (--old-absent)
    del ROW COL                    delete the cell
    rows TABLET_START              list rows of the tablet starting there (--after, --limit)
    cols ROW                       list columns of a row with value sizes (--after, --limit)
    status                         node status as JSON (the --node, or the first node)`;

function parseNode(text: string): NodeAddress {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65_535) {
    throw new UsageError(`--node must be host:port, got "${text}"`);
  }
  return { host: m[1]!, port: Number(m[2]) };
}

function readStdin(): Buffer {
  return readFileSync(0);
}

/** The new value of put/cput: a positional, --file, or stdin. */
function valueArgument(args: ParsedArgs, positional: string | undefined): Buffer {
  const file = args.options.get('file');
  if (typeof file === 'string') {
    if (positional !== undefined) throw new UsageError('give the value either as an argument or with --file, not both');
    return readFileSync(file);
  }
  if (positional === undefined || positional === '-') return readStdin();
  return Buffer.from(positional, 'utf8');
}

function expectedArgument(args: ParsedArgs): Buffer | null {
  const old = args.options.get('old');
  const oldFile = args.options.get('old-file');
  const absent = args.options.has('old-absent');
  const given = [old !== undefined, oldFile !== undefined, absent].filter(Boolean).length;
  if (given !== 1) throw new UsageError('cput needs exactly one of --old V, --old-file F, --old-absent');
  if (absent) return null;
  if (typeof oldFile === 'string') return readFileSync(oldFile);
  return Buffer.from(old as string, 'utf8');
}

function printValue(args: ParsedArgs, value: Buffer): void {
  if (args.options.has('hex')) process.stdout.write(value.toString('hex') + '\n');
  else process.stdout.write(value);
}

function positionals(args: ParsedArgs, count: number, names: string): string[] {
  const rest = args.positionals.slice(1);
  if (rest.length < count) throw new UsageError(`${args.positionals[0]} needs ${names}`);
  return rest;
}

async function runVerb(client: KvClient, args: ParsedArgs, node: NodeAddress | undefined): Promise<number> {
  const verb = args.positionals[0];
  const listOptions = { after: args.options.has('after') ? stringOption(args, 'after', '') : null, limit: intOption(args, 'limit', 100) };
  switch (verb) {
    case 'get': {
      const [row, col] = positionals(args, 2, 'ROW COL');
      const value = await client.get(row!, col!);
      if (value === null) {
        process.stderr.write('not found\n');
        return 1;
      }
      printValue(args, value);
      return 0;
    }
    case 'put': {
      const [row, col, value] = positionals(args, 2, 'ROW COL [VALUE]');
      await client.put(row!, col!, valueArgument(args, value));
      return 0;
    }
    case 'cput': {
      const [row, col, value] = positionals(args, 2, 'ROW COL [NEW]');
      const expected = expectedArgument(args);
      const result = await client.cput(row!, col!, expected, valueArgument(args, value));
      if (result.ok) return 0;
      process.stderr.write(result.current === null ? 'mismatch: the cell is absent\n' : 'mismatch: the cell holds another value\n');
      if (result.current !== null) printValue(args, result.current);
      return 1;
    }
    case 'del': {
      const [row, col] = positionals(args, 2, 'ROW COL');
      if (await client.delete(row!, col!)) return 0;
      process.stderr.write('not found\n');
      return 1;
    }
    case 'rows': {
      const [start] = positionals(args, 1, 'TABLET_START');
      const page = await client.listRows(start!, listOptions);
      for (const row of page.rows) process.stdout.write(`${row}\n`);
      if (page.more) process.stderr.write(`(more: --after ${JSON.stringify(page.rows.at(-1))})\n`);
      return 0;
    }
    case 'cols': {
      const [row] = positionals(args, 1, 'ROW');
      const page = await client.listColumns(row!, listOptions);
      for (const c of page.columns) process.stdout.write(`${c.column}\t${c.valueBytes}\n`);
      if (page.more) process.stderr.write(`(more: --after ${JSON.stringify(page.columns.at(-1)?.column)})\n`);
      return 0;
    }
    case 'status':
      process.stdout.write(JSON.stringify(await client.status(node), null, 2) + '\n');
      return 0;
    default:
      throw new UsageError(verb === undefined ? 'missing verb' : `unknown verb "${verb}"`);
  }
}

export const kvCommand: Command = {
  name: 'kv',
  summary: 'read and write the key-value store from the command line',
  usage: USAGE,
  options: [
    { name: 'node', value: 'HOST:PORT', description: 'talk to this node instead of routing by the configuration' },
    { name: 'hex', description: 'print values as hex' },
    { name: 'file', value: 'FILE', description: 'put/cput: read the new value from FILE' },
    { name: 'old', value: 'V', description: 'cput: the value the cell must hold' },
    { name: 'old-file', value: 'FILE', description: 'cput: read the value the cell must hold from FILE' },
    { name: 'old-absent', description: 'cput: the cell must be absent (create only)' },
    { name: 'after', value: 'KEY', description: 'rows/cols: start after this row or column' },
    { name: 'limit', value: 'N', description: 'rows/cols: page size (default 100)' },
  ],
  async run(args) {
    const { config, secret } = loadRoleContext(args);
    const nodeText = args.options.get('node');
    const node = typeof nodeText === 'string' ? parseNode(nodeText) : undefined;
    const client = new KvClient({
      secret,
      cluster: config.kv,
      coordinator: config.coordinator,
      valueBytesMax: config.kv.valueBytesMax,
      requestTimeoutMs: config.kv.requestTimeoutMs,
      attemptTimeoutMs: 2 * config.coordinator.failureTimeoutMs,
      readFrom: config.kv.readFrom,
      connectionsPerNode: 1,
      ...(node === undefined ? {} : { pinnedNode: node }),
    });
    try {
      return await runVerb(client, args, node);
    } catch (err) {
      if (!isPennError(err)) throw err;
      process.stderr.write(`penncloud kv: ${err.code}: ${err.message}\n`);
      return 1;
    } finally {
      client.close();
    }
  },
};
