/** `penncloud pop3`: mail pickup for mail clients (port 11000). */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { createLogger } from '../protocol/log.js';
import { MailServiceMaildrops } from '../mail/mail-maildrop.js';
import { Pop3Server } from '../mail/pop3-server.js';
import type { Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';
import { createServices } from './service-wiring.js';

export const pop3Command: Command = {
  name: 'pop3',
  summary: 'run the POP3 server for mail clients',
  usage: '',
  options: [],
  async run(args) {
    const { config, secret } = loadRoleContext(args);
    const logger = createLogger('pop3');
    const services = createServices(config, secret, config.pop3.host);
    const p = config.pop3;
    const tls = p.tls === null ? null : createSecureContext({ key: readFileSync(p.tls.keyFile), cert: readFileSync(p.tls.certFile) });
    const server = new Pop3Server({
      provider: new MailServiceMaildrops(services.mail, services.checkPassword),
      logger, idleTimeoutMs: p.idleTimeoutMs, failedLoginsMax: p.failedLoginsMax, tls,
    });
    const address = await server.listen(p.port, p.host);
    onShutdownSignal(async () => {
      logger.info('stopping');
      await server.close();
      services.kv.close();
    });
    announceReady('pop3', `${address.host}:${address.port}`);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
