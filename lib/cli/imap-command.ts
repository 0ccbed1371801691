/** `penncloud imap`: IMAP4rev1 for mail clients and phones (port 14300). */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { createLogger } from '../protocol/log.js';
import { ImapServer } from '../mail/imap-server.js';
import { MailServiceImapStore } from '../mail/mail-imap-store.js';
import type { Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';
import { createServices } from './service-wiring.js';

export const imapCommand: Command = {
  name: 'imap',
  summary: 'run the IMAP server for mail clients',
  usage: '',
  options: [],
  async run(args) {
    const { config, secret } = loadRoleContext(args);
    const logger = createLogger('imap');
    const services = createServices(config, secret);
    const c = config.imap;
    const tls = c.tls === null ? null : createSecureContext({ key: readFileSync(c.tls.keyFile), cert: readFileSync(c.tls.certFile) });
    const server = new ImapServer({
      store: new MailServiceImapStore(services.mail, services.checkPassword),
      logger, idleTimeoutMs: c.idleTimeoutMs, failedLoginsMax: c.failedLoginsMax, connectionsMax: c.connectionsMax,
      literalBytesMax: config.mail.messageBytesMax, tls,
    });
    const address = await server.listen(c.port, c.host);
    onShutdownSignal(async () => {
      logger.info('stopping');
      await server.close();
      services.kv.close();
    });
    announceReady('imap', `${address.host}:${address.port}`);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
