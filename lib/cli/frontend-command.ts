/** `penncloud frontend --id N`: a stateless web frontend serving the app and the REST API. */
import { fileURLToPath } from 'node:url';
import { HttpServer } from '../http/server.js';
import { appSecurityFields, originSource } from '../http/security-fields.js';
import { createLogger } from '../protocol/log.js';
import { Router } from '../router/router.js';
import { HealthController } from '../controllers/health-controller.js';
import { StaticController } from '../controllers/static-controller.js';
import { UserController } from '../controllers/user-controller.js';
import { SessionController } from '../controllers/session-controller.js';
import { DriveController } from '../controllers/drive-controller.js';
import { MailController } from '../controllers/mail-controller.js';
import { AutoconfigController } from '../controllers/autoconfig-controller.js';
import { AdminController } from '../controllers/admin-controller.js';
import { TokenController } from '../controllers/token-controller.js';
import { PublicShareController, ShareController, SharedWithMeController } from '../controllers/share-controller.js';
import { startHeartbeats } from '../dispatcher/heartbeat-sender.js';
import { intOption, UsageError, type Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';
import { readHttpsFiles } from './https-files.js';
import { createServices } from './service-wiring.js';

/** The built single-page app (`npm run build` writes it from spa/ into dist/spa). */
export const SPA_ROOT = fileURLToPath(new URL('../../spa/', import.meta.url));

export const frontendCommand: Command = {
  name: 'frontend',
  summary: 'run a web frontend (the app, the REST API and /healthz)',
  usage: '--id N',
  options: [{ name: 'id', value: 'N', description: 'which frontend of the configuration to run' }],
  async run(args) {
    const id = intOption(args, 'id');
    const { config, secret } = loadRoleContext(args);
    const self = config.frontends.find((f) => f.id === id);
    if (self === undefined) throw new UsageError(`no frontend with id ${id} in the configuration`);
    const name = `frontend-${id}`;
    const logger = createLogger('frontend', { frontend: id });

    // Connections open on first use: a frontend starts (and serves /healthz) before the store.
    const { kv, users, sessions, tokens, shares, grants, storage, mail, admin } = createServices(config, secret, self.host);
    const auth = { sessions, tokens };
    // Aborted as the frontend begins to stop, so long polls answer rather than hold up the close.
    const stopping = new AbortController();

    const router = new Router(logger);
    // Ready when every tablet's serving node answers a one-row listing.
    router.mount('/', new HealthController(async () => {
      await Promise.all(kv.clusterMap().tablets.map((t) => kv.listRows(t.start, { limit: 1 })));
    }));
    router.mount('/api/users', new UserController(users, auth));
    router.mount('/api/session', new SessionController(users, auth, config.admins));
    router.mount('/api/mail', new MailController(mail, auth, stopping.signal));
    router.mount('/api/admin', new AdminController(admin, auth, config.admins));
    router.mount('/api/tokens', new TokenController(auth));
    router.mount('/api/shares', new ShareController(shares, grants, auth));
    router.mount('/api/shared', new SharedWithMeController(grants, auth));
    router.mount('/api/public/shares', new PublicShareController(shares));
    const autoconfig = new AutoconfigController({
      domain: config.mail.domain,
      imap: { host: config.imap.host, port: config.imap.port, starttls: config.imap.tls !== null },
      pop3: { host: config.pop3.host, port: config.pop3.port, starttls: config.pop3.tls !== null },
      smtp: { host: config.smtp.host, port: config.smtp.port, starttls: config.smtp.tls !== null },
    });
    router.mount('/.well-known/autoconfig/mail', autoconfig);
    router.mount('/mail', autoconfig);
    router.mount('/api', new DriveController(storage, auth, { quotaBytes: config.drive.quotaBytes, trashRetentionDays: config.drive.trashRetentionDays }));
    const scheme = config.https === null ? 'http' : 'https';
    router.fallback(new StaticController(SPA_ROOT, { pageMeta: appPageMeta(config.dispatcher, scheme) }).serve);

    const server = new HttpServer({
      name, handler: router.handle, limits: config.http, logger,
      tls: readHttpsFiles(config.https),
      // The app loads one image through the dispatcher, the icon that tells it a way back is
      // open; the dispatcher redirects it to some frontend, and a policy checks every hop.
      defaultFields: appSecurityFields({
        imageOrigins: [
          originSource(scheme, config.dispatcher.host, config.dispatcher.port),
          ...config.frontends.filter((f) => f.id !== id).map((f) => new URL(f.publicUrl).origin),
        ],
        secure: config.https !== null,
      }),
    });
    const address = await server.listen(self.port, self.host);
    const stopHeartbeats = startHeartbeats({
      dispatcherHost: config.dispatcher.host,
      dispatcherPort: config.dispatcher.port,
      sourceHost: self.host,
      intervalMs: config.dispatcher.heartbeatIntervalMs,
      current: () => ({ id, url: self.publicUrl, connections: server.connectionCount }),
      secret,
      logger,
    });
    onShutdownSignal(async () => {
      stopping.abort();
      logger.info('stopping');
      stopHeartbeats();
      await server.close();
      kv.close();
    });
    logger.info('listening', { host: address.host, port: address.port });
    announceReady(name, self.publicUrl);
    return new Promise<number>(() => { /* serves until a signal */ });
  },
};

/**
 * What the app's page tells the app about the deployment: where the dispatcher is (the app goes
 * back through it when its frontend stops answering) and how long the dispatcher keeps a silent
 * frontend (so the app waits that long before trusting a redirect).
 */
function appPageMeta(dispatcher: { host: string; port: number; frontendTimeoutMs: number }, scheme: 'http' | 'https'): Record<string, string> {
  const host = dispatcher.host.includes(':') ? `[${dispatcher.host}]` : dispatcher.host;
  return {
    dispatcher: `${scheme}://${host}:${dispatcher.port}`,
    'frontend-timeout-ms': String(dispatcher.frontendTimeoutMs),
  };
}
