/** `penncloud up`: the whole cloud of conf/ on this machine, as child processes. */
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { loadRoleContext, onShutdownSignal } from './role-context.js';
import { Supervisor, type RoleSpec } from './supervisor.js';
import { startSupervisorControl } from './supervisor-control.js';

const ENTRY = fileURLToPath(new URL('../../bin/penncloud.js', import.meta.url));

export const upCommand: Command = {
  name: 'up',
  summary: 'start every role of the configuration on this machine (what `npm start` runs)',
  usage: '[--conf FILE] [--data DIR]',
  options: [],
  async run(args) {
    // The first `up` on a data directory makes its cluster secret (cluster-secret.ts); every
    // role started here reads the same file.
    const { config, confFile, dataDir, secret } = loadRoleContext(args);
    const secretFile = args.options.get('secret-file');
    const common = ['--conf', confFile, '--data', dataDir, ...(typeof secretFile === 'string' ? ['--secret-file', secretFile] : [])];
    // Started tier by tier, each tier in parallel: the store, the dispatcher (so it hears each
    // frontend's first heartbeat), then what serves users. Stopped in the reverse order.
    const tiers: RoleSpec[][] = [
      [{ name: 'coordinator', args: ['coordinator', ...common] }],
      config.kv.nodes.map((n) => ({ name: `kvnode-${n.id}`, args: ['kvnode', '--id', String(n.id), ...common] })),
      [{ name: 'dispatcher', args: ['dispatcher', ...common] }],
      [
        ...config.frontends.map((f) => ({ name: `frontend-${f.id}`, args: ['frontend', '--id', String(f.id), ...common] })),
        { name: 'smtp', args: ['smtp', ...common] },
        { name: 'pop3', args: ['pop3', ...common] },
        { name: 'imap', args: ['imap', ...common] },
      ],
    ];
    const roles = tiers.flat();
    let stopping = false;
    const supervisor = new Supervisor(ENTRY, (name, code, next) => {
      if (stopping) return;
      process.stderr.write('restartInMs' in next
        ? `[up] ${name} exited unexpectedly (code ${code}); starting it again in ${next.restartInMs} ms\n`
        : `[up] ${name} exited unexpectedly (code ${code}), ${next.deaths} times in a short while: a crash loop; left down until an admin starts it\n`);
    });
    let control: Server | null = null;
    const stop = async (): Promise<void> => {
      stopping = true;
      process.stderr.write('[up] stopping\n');
      control?.close();
      await supervisor.stopAll(roles.map((r) => r.name));
    };
    onShutdownSignal(stop);
    control = await startSupervisorControl(supervisor, config.supervisor.host, config.supervisor.port, secret);
    const urls: string[] = [];
    try {
      for (const tier of tiers) {
        const ready = await Promise.all(tier.map((role) => supervisor.start(role)));
        tier.forEach((role, i) => urls.push(`  ${role.name.padEnd(14)} ${ready[i]}`));
      }
    } catch (err) {
      process.stderr.write(`[up] ${(err as Error).message}; stopping\n`);
      await stop();
      return 1;
    }
    const d = config.dispatcher;
    process.stdout.write(`PennCloud is up (data in ${dataDir}):\n${urls.join('\n')}\n\nOpen ${config.https === null ? 'http' : 'https'}://${d.host}:${d.port}/ in a browser.\n`);
    process.stdout.write('READY up all roles started\n');
    return new Promise<number>(() => { /* runs until a signal */ });
  },
};
