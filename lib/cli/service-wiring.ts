/**
 * The services every process that serves users builds the same way from the configuration:
 * one KV client, accounts, sessions, the drive's storage and the webmail.
 */
import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { PennConfig } from '../../conf/config.js';
import { KvClient } from '../kvclient/kv-client.js';
import { JsonLineClient } from '../kvclient/json-line-client.js';
import { AdminService } from '../services/admin-service.js';
import { isPennError } from '../protocol/errors.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { MailService } from '../services/mail-service.js';
import { SessionService } from '../services/session-service.js';
import { TokenService } from '../services/token-service.js';
import { trashRetentionMs } from '../services/trash-bin.js';
import { ShareService, shareUnlockKey } from '../services/share-service.js';
import { FolderGrants } from '../services/folder-grants.js';
import { StorageService } from '../services/storage-service.js';
import { UserService } from '../services/user-service.js';
import { SUPERVISED_ENV } from './role-context.js';

export interface Services {
  kv: KvClient;
  users: UserService;
  sessions: SessionService;
  tokens: TokenService;
  shares: ShareService;
  grants: FolderGrants;
  storage: StorageService;
  mail: MailService;
  admin: AdminService;
  /** A password check for mail protocols: false for wrong credentials, throws when throttled. */
  checkPassword(username: string, password: string, remoteAddress: string): Promise<boolean>;
}

/** How long a control request (coordinator, supervisor) may take. */
const CONTROL_TIMEOUT_MS = 5_000;
/** Starting a role waits for its ready line, which can take a while on a loaded machine. */
const SUPERVISOR_TIMEOUT_MS = 90_000;
/** How long a frontend's /healthz may take before it counts as down. */
const HEALTH_PROBE_TIMEOUT_MS = 2_000;

/**
 * True when the frontend at `url` answers /healthz with 200. Over HTTPS the frontends' own
 * certificate is trusted besides the usual roots (it may be self-signed).
 */
async function probeHealth(url: string, extraCa: Buffer | null): Promise<boolean> {
  if (url.startsWith('https:')) return probeHealthTls(url, extraCa);
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function probeHealthTls(url: string, extraCa: Buffer | null): Promise<boolean> {
  return new Promise((resolve) => {
    const ca = extraCa === null ? undefined : [...rootCertificates, extraCa.toString('latin1')];
    const req = httpsGet(`${url}/healthz`, { ca, timeout: HEALTH_PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(false));
  });
}

/**
 * Builds the services; connections to the store open on first use, each proving `secret`, the
 * cluster secret (as do those to the coordinator and the supervisor), and each leaving from
 * `sourceHost`, the configured host of the role (lib/protocol/source-address.ts).
 */
export function createServices(config: PennConfig, secret: Buffer, sourceHost?: string): Services {
  const kv = new KvClient({
    secret, sourceHost,
    cluster: config.kv, coordinator: config.coordinator, valueBytesMax: config.kv.valueBytesMax, requestTimeoutMs: config.kv.requestTimeoutMs,
    // A silent node has been replaced after one failure timeout: ask the map again after two.
    attemptTimeoutMs: 2 * config.coordinator.failureTimeoutMs,
    readFrom: config.kv.readFrom,
  });
  const extraCa = config.https === null ? null : readFileSync(config.https.certFile);
  const users = new UserService(kv, new LoginThrottle(kv), Date.now, config.admins);
  const sessions = new SessionService(kv, users, config.sessions);
  const tokens = new TokenService(kv);
  const storage = new StorageService(kv, {
    chunkBytes: config.drive.chunkBytes, uploadStaleMs: config.drive.uploadStaleMs, trashRetentionMs: trashRetentionMs(config.drive.trashRetentionDays),
  });
  const mail = new MailService(kv, storage, { exists: async (name) => (await users.find(name)) !== null }, config.mail);
  const admin = new AdminService({
    store: kv,
    coordinator: new JsonLineClient(config.coordinator.host, config.coordinator.port, CONTROL_TIMEOUT_MS, 'the coordinator', secret, sourceHost),
    // Under `penncloud up` (which sets this), processes can be stopped and started.
    supervisor: process.env[SUPERVISED_ENV] === '1'
      ? new JsonLineClient(config.supervisor.host, config.supervisor.port, SUPERVISOR_TIMEOUT_MS, 'the process supervisor', secret, sourceHost)
      : null,
    frontends: config.frontends,
    probe: (url) => probeHealth(url, extraCa),
  });
  return {
    kv, users, sessions, tokens, storage, mail, admin,
    shares: new ShareService(kv, (owner) => storage.volume(`drive:${owner}`, config.drive.quotaBytes, { searchable: true }), shareUnlockKey(secret)),
    grants: new FolderGrants(kv, (owner) => storage.volume(`drive:${owner}`, config.drive.quotaBytes, { searchable: true }), async (name) => (await users.find(name)) !== null),
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
