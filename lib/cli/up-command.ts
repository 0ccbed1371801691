/** `penncloud up`: the whole cloud of conf/ on this machine, as child processes. */
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { loadRoleContext, onShutdownSignal } from './role-context.js';
import { Supervisor, type RoleSpec } from './supervisor.js';

const ENTRY = fileURLToPath(new URL('../../bin/penncloud.js', import.meta.url));

export const upCommand: Command = {
  name: 'up',
  summary: 'start every role of the configuration on this machine (what `npm start` runs)',
  usage: '[--conf FILE] [--data DIR]',
  options: [],
  async run(args) {
    const { config, confFile, dataDir } = loadRoleContext(args);
    const common = ['--conf', confFile, '--data', dataDir];
    const roles: RoleSpec[] = [
      ...config.frontends.map((f) => ({ name: `frontend-${f.id}`, args: ['frontend', '--id', String(f.id), ...common] })),
      { name: 'dispatcher', args: ['dispatcher', ...common] },
    ];
    let stopping = false;
    const supervisor = new Supervisor(ENTRY, (name, code) => {
      if (!stopping) process.stderr.write(`[up] ${name} exited unexpectedly (code ${code})\n`);
    });
    const stop = async (): Promise<void> => {
      stopping = true;
      process.stderr.write('[up] stopping\n');
      await supervisor.stopAll(roles.map((r) => r.name));
    };
    onShutdownSignal(stop);
    const urls: string[] = [];
    try {
      for (const role of roles) urls.push(`  ${role.name.padEnd(14)} ${await supervisor.start(role)}`);
    } catch (err) {
      process.stderr.write(`[up] ${(err as Error).message}; stopping\n`);
      await stop();
      return 1;
    }
    process.stdout.write(`PennCloud is up (data in ${dataDir}):\n${urls.join('\n')}\n`);
    process.stdout.write('READY up all roles started\n');
    return new Promise<number>(() => { /* runs until a signal */ });
  },
};
