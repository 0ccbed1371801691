/** `penncloud smtp`: inbound mail and submission (port 2500), and the outbound delivery worker. */
import { readFileSync } from 'node:fs';
import { createLogger } from '../protocol/log.js';
import { MxLookup } from '../mail/mx-lookup.js';
import { OutboundWorker } from '../mail/outbound-worker.js';
import { SmtpInbound } from '../mail/smtp-inbound.js';
import type { Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';
import { createServices } from './service-wiring.js';

export const smtpCommand: Command = {
  name: 'smtp',
  summary: 'run the SMTP server (mail in, submission for mail clients) and outbound delivery',
  usage: '',
  options: [],
  async run(args) {
    const { config, secret } = loadRoleContext(args);
    const logger = createLogger('smtp');
    const services = createServices(config, secret, config.smtp.host);
    const tls = config.smtp.tls === null ? null : { key: readFileSync(config.smtp.tls.keyFile), cert: readFileSync(config.smtp.tls.certFile) };
    const inbound = new SmtpInbound({
      backend: {
        domain: config.mail.domain,
        authenticate: services.checkPassword,
        userExists: async (name) => (await services.users.find(name)) !== null,
        accept: (envelope, raw) => services.mail.accept(envelope, raw),
      },
      logger, messageBytesMax: config.mail.messageBytesMax, hostname: config.mail.domain, tls, operators: config.admins,
      localSenderPolicy: config.smtp.localSenderPolicy,
      unauthenticatedMessagesPerWindow: config.smtp.unauthenticatedMessagesPerWindow,
      unauthenticatedWindowMs: config.smtp.unauthenticatedWindowMs,
    });
    const worker = new OutboundWorker({
      kv: services.kv, mail: services.mail, lookup: new MxLookup(config.mail.dnsServer), logger: logger.child({ part: 'outbound' }),
      port: config.mail.outboundPort, sourceHost: config.smtp.host, retry: config.mail.retry, pollMs: config.mail.queuePollMs,
    });
    const address = await inbound.listen(config.smtp.port, config.smtp.host);
    worker.start();
    onShutdownSignal(async () => {
      logger.info('stopping');
      await worker.stop();
      await inbound.close();
      services.kv.close();
    });
    announceReady('smtp', `${address.host}:${address.port}`);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};
