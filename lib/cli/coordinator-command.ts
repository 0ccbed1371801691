/** `penncloud coordinator`: the store's control plane (views, tablet map, failover). */
import { join } from 'node:path';
import { CoordinatorServer } from '../coordinator/coordinator-server.js';
import { createLogger } from '../protocol/log.js';
import type { Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';

export const coordinatorCommand: Command = {
  name: 'coordinator',
  summary: 'run the coordinator: tablet map, replica groups, heartbeats and failover',
  usage: '',
  options: [],
  async run(args) {
    const { config, dataDir, secret } = loadRoleContext(args);
    const logger = createLogger('coordinator');
    const c = config.coordinator;
    const server = new CoordinatorServer({
      host: c.host, port: c.port, nodes: config.kv.nodes, groups: config.kv.groups, tablets: config.kv.tablets,
      heartbeatIntervalMs: c.heartbeatIntervalMs, failureTimeoutMs: c.failureTimeoutMs,
      dir: join(dataDir, 'coordinator'), secret, logger,
    });
    const address = await server.listen();
    onShutdownSignal(async () => {
      logger.info('stopping');
      await server.close();
    });
    announceReady('coordinator', `${address.host}:${address.port}`);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
