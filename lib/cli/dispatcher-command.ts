/** `penncloud dispatcher`: redirects every user to a live frontend. */
import { createLogger } from '../protocol/log.js';
import { Dispatcher } from '../dispatcher/dispatcher-server.js';
import type { Command } from './command.js';
import { readHttpsFiles } from './https-files.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';

export const dispatcherCommand: Command = {
  name: 'dispatcher',
  summary: 'run the dispatcher: the address users know, redirecting to live frontends',
  usage: '',
  options: [],
  async run(args) {
    const { config, secret } = loadRoleContext(args);
    const logger = createLogger('dispatcher');
    const d = config.dispatcher;
    const dispatcher = new Dispatcher({
      host: d.host, port: d.port, policy: d.policy, redirectStatus: d.redirectStatus,
      frontendTimeoutMs: d.frontendTimeoutMs, httpLimits: config.http, logger,
      frontends: config.frontends, secret, tls: readHttpsFiles(config.https),
    });
    const address = await dispatcher.start();
    onShutdownSignal(async () => {
      logger.info('stopping');
      await dispatcher.close();
    });
    logger.info('dispatching', { policy: d.policy, redirectStatus: d.redirectStatus });
    announceReady('dispatcher', `${config.https === null ? 'http' : 'https'}://${address.host}:${address.port}`);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
