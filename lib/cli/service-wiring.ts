/**
 * The services every process that serves users builds the same way from the configuration:
 * one KV client, accounts, sessions, the drive's storage and the webmail.
 */
import type { PennConfig } from '../../conf/config.js';
import { KvClient } from '../kvclient/kv-client.js';
import { isPennError } from '../protocol/errors.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { MailService } from '../services/mail-service.js';
import { SessionService } from '../services/session-service.js';
import { StorageService } from '../services/storage-service.js';
import { UserService } from '../services/user-service.js';

export interface Services {
  kv: KvClient;
  users: UserService;
  sessions: SessionService;
  storage: StorageService;
  mail: MailService;
  /** A password check for mail protocols: false for wrong credentials, throws when throttled. */
  checkPassword(username: string, password: string, remoteAddress: string): Promise<boolean>;
}

/** Builds the services; connections to the store open on first use. */
export function createServices(config: PennConfig): Services {
  const kv = new KvClient({ cluster: config.kv, valueBytesMax: config.kv.valueBytesMax, requestTimeoutMs: config.kv.requestTimeoutMs });
  const users = new UserService(kv, new LoginThrottle(kv));
  const sessions = new SessionService(kv, users, config.sessions);
  const storage = new StorageService(kv, { chunkBytes: config.drive.chunkBytes });
  const mail = new MailService(kv, storage, { exists: async (name) => (await users.find(name)) !== null }, config.mail);
  return {
    kv, users, sessions, storage, mail,
    async checkPassword(username, password, remoteAddress) {
      try {
        await users.logIn(username, password, remoteAddress);
        return true;
      } catch (err) {
        if (isPennError(err, 'UNAUTHENTICATED') || isPennError(err, 'BAD_REQUEST')) return false;
        throw err;
      }
    },
  };
}
