/** `penncloud frontend --id N`: a stateless web frontend serving the app and the REST API. */
import { fileURLToPath } from 'node:url';
import { HttpServer } from '../http/server.js';
import { createLogger } from '../protocol/log.js';
import { Router } from '../router/router.js';
import { HealthController } from '../controllers/health-controller.js';
import { StaticController } from '../controllers/static-controller.js';
import { startHeartbeats } from '../dispatcher/heartbeat-sender.js';
import { intOption, UsageError, type Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';

/** The single-page app's files, shipped beside the code. */
export const SPA_ROOT = fileURLToPath(new URL('../../../spa/', import.meta.url));

export const frontendCommand: Command = {
  name: 'frontend',
  summary: 'run a web frontend (the app, the REST API and /healthz)',
  usage: '--id N',
  options: [{ name: 'id', value: 'N', description: 'which frontend of the configuration to run' }],
  async run(args) {
    const id = intOption(args, 'id');
    const { config } = loadRoleContext(args);
    const self = config.frontends.find((f) => f.id === id);
    if (self === undefined) throw new UsageError(`no frontend with id ${id} in the configuration`);
    const name = `frontend-${id}`;
    const logger = createLogger('frontend', { frontend: id });

    const router = new Router(logger);
    router.mount('/healthz', new HealthController());
    router.fallback(new StaticController(SPA_ROOT).serve);

    const server = new HttpServer({ name, handler: router.handle, limits: config.http, logger });
    const address = await server.listen(self.port, self.host);
    const stopHeartbeats = startHeartbeats({
      dispatcherHost: config.dispatcher.host,
      dispatcherPort: config.dispatcher.port,
      intervalMs: config.dispatcher.heartbeatIntervalMs,
      current: () => ({ id, url: self.publicUrl, connections: server.connectionCount }),
      logger,
    });
    onShutdownSignal(async () => {
      logger.info('stopping');
      stopHeartbeats();
      await server.close();
    });
    logger.info('listening', { host: address.host, port: address.port });
    announceReady(name, self.publicUrl);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
