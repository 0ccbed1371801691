/**
 * The configuration of a cloud: one JSON file (default conf/local.json) read and validated at
 * start-up. A bad file stops the process with a message naming the field. Only entry files
 * (lib/cli) load it; the layers receive plain values.
 */
import { readFileSync } from 'node:fs';
import { isWildcardHost } from '../lib/protocol/source-address.js';

/** HTTP limits that conf/ may override (defaults live in lib/http/limits.ts). */
export interface HttpLimitsConfig {
  requestLineBytesMax?: number;
  headBytesMax?: number;
  headersCountMax?: number;
  bodyBytesMax?: number;
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  requestsPerConnectionMax?: number;
  shutdownGraceMs?: number;
  bodyRateWindowMs?: number;
  bodyBytesPerWindowMin?: number;
  connectionsPerClientMax?: number;
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface FrontendConfig extends Endpoint {
  id: number;
  /** The URL browsers are sent to (the dispatcher redirects here). */
  publicUrl: string;
}

export interface DispatcherConfig extends Endpoint {
  policy: 'random' | 'least-load';
  redirectStatus: 301 | 302 | 303 | 307 | 308;
  heartbeatIntervalMs: number;
  frontendTimeoutMs: number;
}

export interface CoordinatorConfig extends Endpoint {
  heartbeatIntervalMs: number;
  failureTimeoutMs: number;
}

export interface KvNodeConfig extends Endpoint {
  id: number;
}

export interface KvConfig {
  nodes: KvNodeConfig[];
  /** Replica groups: each a list of node ids (three in a standard cloud). */
  groups: number[][];
  /** Initial tablets: each starts at `start` (inclusive) and ends where the next starts. */
  tablets: { start: string; group: number }[];
  valueBytesMax: number;
  memoryBudgetBytes: number;
  tabletSplitBytes: number;
  checkpointLogBytes: number;
  /** Values at least this long are read from the log once logged, not kept in memory. */
  logValueBytesMin: number;
  requestTimeoutMs: number;
  readFrom: 'primary' | 'any';
}

/** The webmail and mail transport. */
export interface MailConfig {
  /** Addresses `user@domain` are local users. */
  domain: string;
  /** Largest message accepted or sent, in bytes (advertised by SMTP as SIZE). */
  messageBytesMax: number;
  /** Bytes of mail each user may keep. */
  quotaBytes: number;
  /** The DNS server MX and A records are looked up at. */
  dnsServer: Endpoint;
  /** Port of the remote mail servers delivered to (25 on the Internet). */
  outboundPort: number;
  /** Retries of a delivery that failed for a passing reason (4xx, no connection). */
  retry: {
    /** Wait before the second attempt; each later one waits twice as long, up to delayMaxMs. */
    delayMs: number;
    delayMaxMs: number;
    /** After this many attempts, or this long after sending, the sender gets a bounce. */
    attemptsMax: number;
    expiryMs: number;
  };
  /** How often the outbound worker looks at the queue. */
  queuePollMs: number;
}

/** PEM files of a certificate and its key, for STARTTLS / STLS and HTTPS. */
export interface TlsFilesConfig {
  keyFile: string;
  certFile: string;
}

export interface SmtpConfig extends Endpoint {
  tls: TlsFilesConfig | null;
  /** Unauthenticated mail claiming a sender of the mail domain: delivered with a warning, or refused. */
  localSenderPolicy: 'mark' | 'refuse';
  /** Messages one client address may send without logging in per window (counted per SMTP process). */
  unauthenticatedMessagesPerWindow: number;
  unauthenticatedWindowMs: number;
}

export interface ImapConfig extends Endpoint {
  /** RFC 3501 §5.4: an autologout timer of at least 30 minutes. */
  idleTimeoutMs: number;
  /** Failed logins on one connection before it is closed. */
  failedLoginsMax: number;
  /** Connections open at once; one more is told BYE. */
  connectionsMax: number;
  tls: TlsFilesConfig | null;
}

export interface Pop3Config extends Endpoint {
  /** RFC 1939 §3: at least 10 minutes. */
  idleTimeoutMs: number;
  /** Failed logins on one connection before it is closed. */
  failedLoginsMax: number;
  tls: TlsFilesConfig | null;
}

/** The drive (storage service) as the frontends run it. */
export interface DriveConfig {
  /** Bytes per chunk of a stored file; at most kv.valueBytesMax (one chunk is one value). */
  chunkBytes: number;
  /** Bytes each user may store in the drive. */
  quotaBytes: number;
  /** An upload not heard from this long counts as dead: its space and chunks are reclaimed. */
  uploadStaleMs: number;
  /** Days a deleted file or folder stays in the trash before it is deleted for good. */
  trashRetentionDays: number;
}

/** Session lifetimes. */
export interface SessionsConfig {
  /** A session unused this long ends. */
  idleTimeoutMs: number;
  /** A session ends this long after log-in, however busy. */
  absoluteTimeoutMs: number;
}

export interface PennConfig {
  http: HttpLimitsConfig;
  frontends: FrontendConfig[];
  dispatcher: DispatcherConfig;
  coordinator: CoordinatorConfig;
  kv: KvConfig;
  drive: DriveConfig;
  sessions: SessionsConfig;
  mail: MailConfig;
  smtp: SmtpConfig;
  pop3: Pop3Config;
  imap: ImapConfig;
  /** Usernames allowed into the admin console and the admin API. */
  admins: string[];
  /** The control port of `penncloud up`, which the admin console uses to stop and start roles. */
  supervisor: Endpoint;
  /**
   * The file holding the cluster secret every internal connection proves it knows
   * (docs/security.md); relative paths from the working directory. Null: `<data dir>/cluster.secret`.
   */
  secretFile: string | null;
  /**
   * HTTPS for the frontends and the dispatcher (PEM key and certificate chain, relative paths
   * from the working directory); null: plain HTTP. With it, publicUrls are https URLs.
   */
  https: TlsFilesConfig | null;
}

/** A configuration file that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly field: string, problem: string) {
    super(`${file}: field "${field}": ${problem}`);
    this.name = 'ConfigError';
  }
}

const PORT_MAX = 65_535;
const MIB = 1024 * 1024;

/** Reads, parses and validates a configuration file. Throws ConfigError. */
export function loadConfig(file: string): PennConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot be read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(file)', `is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw, file);
}

/** Validates an already parsed configuration object; `file` is only used in messages. */
export function parseConfig(raw: unknown, file = '(config)'): PennConfig {
  const f = new FieldReader(file);
  const root = f.object(raw, '');
  const https = readTls(f, root.https, 'https');
  const config: PennConfig = {
    http: readHttp(f, root.http),
    frontends: readFrontends(f, root.frontends, https !== null),
    dispatcher: readDispatcher(f, root.dispatcher),
    coordinator: readCoordinator(f, root.coordinator),
    kv: readKv(f, root.kv),
    drive: { chunkBytes: 0, quotaBytes: 0, uploadStaleMs: 0, trashRetentionDays: 0 },
    mail: undefined as unknown as MailConfig,
    smtp: undefined as unknown as SmtpConfig,
    pop3: undefined as unknown as Pop3Config,
    imap: undefined as unknown as ImapConfig,
    admins: [],
    supervisor: undefined as unknown as Endpoint,
    sessions: readSessions(f, root.sessions),
    secretFile: root.secretFile === undefined ? null : f.string(root.secretFile, 'secretFile'),
    https,
  };
  config.drive = readDrive(f, root.drive, config.kv);
  config.mail = readMail(f, root.mail);
  config.smtp = readSmtp(f, root.smtp);
  config.pop3 = readPop3(f, root.pop3);
  config.imap = readImap(f, root.imap);
  config.admins = readAdmins(f, root.admins);
  const sup = f.object(root.supervisor ?? {}, 'supervisor');
  f.rejectUnknown(sup, 'supervisor', ['host', 'port']);
  config.supervisor = { host: f.peerHost(sup.host ?? '127.0.0.1', 'supervisor.host', 'frontends connect to it'), port: f.port(sup.port ?? 9998, 'supervisor.port') };
  f.rejectUnknown(root, '', ['http', 'frontends', 'dispatcher', 'coordinator', 'kv', 'drive', 'sessions', 'mail', 'smtp', 'pop3', 'imap', 'admins', 'supervisor', 'secretFile', 'https']);
  checkPortsDistinct(f, config);
  return config;
}

function readHttp(f: FieldReader, value: unknown): HttpLimitsConfig {
  if (value === undefined) return {};
  const o = f.object(value, 'http');
  const keys = [
    'requestLineBytesMax', 'headBytesMax', 'headersCountMax', 'bodyBytesMax', 'headTimeoutMs',
    'idleTimeoutMs', 'requestsPerConnectionMax', 'shutdownGraceMs', 'bodyRateWindowMs',
    'bodyBytesPerWindowMin', 'connectionsPerClientMax',
  ] as const;
  f.rejectUnknown(o, 'http', [...keys]);
  const out: HttpLimitsConfig = {};
  for (const key of keys) {
    if (o[key] !== undefined) out[key] = f.int(o[key], `http.${key}`, 1, Number.MAX_SAFE_INTEGER);
  }
  if (out.requestLineBytesMax !== undefined && out.headBytesMax !== undefined
    && out.requestLineBytesMax > out.headBytesMax) {
    throw new ConfigError(f.file, 'http.requestLineBytesMax', 'must not exceed http.headBytesMax');
  }
  return out;
}

function readFrontends(f: FieldReader, value: unknown, https: boolean): FrontendConfig[] {
  const list = f.array(value, 'frontends', 1);
  const ids = new Set<number>();
  return list.map((item, i) => {
    const path = `frontends[${i}]`;
    const o = f.object(item, path);
    f.rejectUnknown(o, path, ['id', 'host', 'port', 'publicUrl']);
    const id = f.int(o.id, `${path}.id`, 0, 1_000);
    if (ids.has(id)) throw new ConfigError(f.file, `${path}.id`, `duplicate frontend id ${id}`);
    ids.add(id);
    // Without a publicUrl, the host is where the dispatcher sends browsers: it must be concrete.
    const host = o.publicUrl === undefined
      ? f.peerHost(o.host, `${path}.host`, `the dispatcher sends users to http://HOST:PORT (or set ${path}.publicUrl)`)
      : f.host(o.host, `${path}.host`);
    const port = f.port(o.port, `${path}.port`);
    const scheme = https ? 'https' : 'http';
    const publicUrl = o.publicUrl === undefined
      ? `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
      : f.url(o.publicUrl, `${path}.publicUrl`);
    // Behind a TLS proxy a plain frontend may have an https publicUrl; the reverse would send
    // users to plain HTTP past a server that speaks only HTTPS.
    if (https && !publicUrl.startsWith('https:')) {
      throw new ConfigError(f.file, `${path}.publicUrl`, 'must be an https URL when "https" is configured');
    }
    return { id, host, port, publicUrl };
  });
}

function readDispatcher(f: FieldReader, value: unknown): DispatcherConfig {
  const o = f.object(value ?? {}, 'dispatcher');
  f.rejectUnknown(o, 'dispatcher', ['host', 'port', 'policy', 'redirectStatus', 'heartbeatIntervalMs', 'frontendTimeoutMs']);
  const policy = f.oneOf(o.policy ?? 'least-load', 'dispatcher.policy', ['random', 'least-load'] as const);
  const redirectStatus = f.oneOf(o.redirectStatus ?? 301, 'dispatcher.redirectStatus', [301, 302, 303, 307, 308] as const);
  const heartbeatIntervalMs = f.int(o.heartbeatIntervalMs ?? 1_000, 'dispatcher.heartbeatIntervalMs', 10, 60_000);
  const frontendTimeoutMs = f.int(o.frontendTimeoutMs ?? 3_000, 'dispatcher.frontendTimeoutMs', 10, 600_000);
  if (frontendTimeoutMs <= heartbeatIntervalMs * 2) {
    throw new ConfigError(f.file, 'dispatcher.frontendTimeoutMs',
      `must be more than twice dispatcher.heartbeatIntervalMs (${heartbeatIntervalMs}), or one late heartbeat drops a live frontend`);
  }
  return {
    host: f.peerHost(o.host ?? '127.0.0.1', 'dispatcher.host', 'frontends send their heartbeats to it and the app is sent back to it'),
    port: f.port(o.port ?? 9000, 'dispatcher.port'),
    policy, redirectStatus, heartbeatIntervalMs, frontendTimeoutMs,
  };
}

function readCoordinator(f: FieldReader, value: unknown): CoordinatorConfig {
  const o = f.object(value ?? {}, 'coordinator');
  f.rejectUnknown(o, 'coordinator', ['host', 'port', 'heartbeatIntervalMs', 'failureTimeoutMs']);
  const heartbeatIntervalMs = f.int(o.heartbeatIntervalMs ?? 250, 'coordinator.heartbeatIntervalMs', 10, 60_000);
  const failureTimeoutMs = f.int(o.failureTimeoutMs ?? 1_000, 'coordinator.failureTimeoutMs', 30, 600_000);
  // Heartbeat interval x 3 < failure timeout (README, Configuration), so one lost heartbeat is not a failure.
  if (heartbeatIntervalMs * 3 >= failureTimeoutMs) {
    throw new ConfigError(f.file, 'coordinator.failureTimeoutMs',
      `must be more than 3 x coordinator.heartbeatIntervalMs (${heartbeatIntervalMs} ms)`);
  }
  return {
    host: f.peerHost(o.host ?? '127.0.0.1', 'coordinator.host', 'storage nodes and clients connect to it'),
    port: f.port(o.port ?? 9999, 'coordinator.port'),
    heartbeatIntervalMs, failureTimeoutMs,
  };
}

function readKv(f: FieldReader, value: unknown): KvConfig {
  const o = f.object(value, 'kv');
  f.rejectUnknown(o, 'kv', ['nodes', 'groups', 'tablets', 'valueBytesMax', 'memoryBudgetBytes',
    'tabletSplitBytes', 'checkpointLogBytes', 'logValueBytesMin', 'requestTimeoutMs', 'readFrom']);
  const nodeIds = new Set<number>();
  const nodes = f.array(o.nodes, 'kv.nodes', 1).map((item, i) => {
    const path = `kv.nodes[${i}]`;
    const n = f.object(item, path);
    f.rejectUnknown(n, path, ['id', 'host', 'port']);
    const id = f.int(n.id, `${path}.id`, 0, 10_000);
    if (nodeIds.has(id)) throw new ConfigError(f.file, `${path}.id`, `duplicate node id ${id}`);
    nodeIds.add(id);
    return { id, host: f.peerHost(n.host, `${path}.host`, 'its peers and clients connect to it'), port: f.port(n.port, `${path}.port`) };
  });
  const inGroup = new Set<number>();
  const groups = f.array(o.groups, 'kv.groups', 1).map((item, g) => {
    const members = f.array(item, `kv.groups[${g}]`, 1);
    return members.map((m, j) => {
      const path = `kv.groups[${g}][${j}]`;
      const id = f.int(m, path, 0, 10_000);
      if (!nodeIds.has(id)) throw new ConfigError(f.file, path, `node ${id} is not in kv.nodes`);
      if (inGroup.has(id)) throw new ConfigError(f.file, path, `node ${id} is in more than one group`);
      inGroup.add(id);
      return id;
    });
  });
  const tablets = f.array(o.tablets, 'kv.tablets', 1).map((item, i) => {
    const path = `kv.tablets[${i}]`;
    const t = f.object(item, path);
    f.rejectUnknown(t, path, ['start', 'group']);
    const start = f.string(t.start, `${path}.start`, true);
    const group = f.int(t.group, `${path}.group`, 0, groups.length - 1);
    return { start, group };
  });
  if (tablets[0]!.start !== '') {
    throw new ConfigError(f.file, 'kv.tablets[0].start', 'the first tablet must start at "" so every row has a tablet');
  }
  for (let i = 1; i < tablets.length; i++) {
    if (!(tablets[i]!.start > tablets[i - 1]!.start)) {
      throw new ConfigError(f.file, `kv.tablets[${i}].start`, 'tablets must be listed in increasing order of start');
    }
  }
  const valueBytesMax = f.int(o.valueBytesMax ?? 8 * MIB, 'kv.valueBytesMax', 1, 256 * MIB);
  const memoryBudgetBytes = f.int(o.memoryBudgetBytes ?? 256 * MIB, 'kv.memoryBudgetBytes', MIB, 64 * 1024 * MIB);
  const tabletSplitBytes = f.int(o.tabletSplitBytes ?? 64 * MIB, 'kv.tabletSplitBytes', 64 * 1024, 64 * 1024 * MIB);
  if (tabletSplitBytes > memoryBudgetBytes) {
    throw new ConfigError(f.file, 'kv.tabletSplitBytes', `must not exceed kv.memoryBudgetBytes (${memoryBudgetBytes}): a tablet must fit in memory`);
  }
  if (valueBytesMax > tabletSplitBytes) {
    throw new ConfigError(f.file, 'kv.valueBytesMax', `must not exceed kv.tabletSplitBytes (${tabletSplitBytes})`);
  }
  return {
    nodes, groups, tablets, valueBytesMax, memoryBudgetBytes, tabletSplitBytes,
    checkpointLogBytes: f.int(o.checkpointLogBytes ?? 64 * MIB, 'kv.checkpointLogBytes', 4096, 64 * 1024 * MIB),
    logValueBytesMin: f.int(o.logValueBytesMin ?? 64 * 1024, 'kv.logValueBytesMin', 1, 256 * MIB),
    requestTimeoutMs: f.int(o.requestTimeoutMs ?? 5_000, 'kv.requestTimeoutMs', 10, 600_000),
    readFrom: f.oneOf(o.readFrom ?? 'primary', 'kv.readFrom', ['primary', 'any'] as const),
  };
}

function readMail(f: FieldReader, value: unknown): MailConfig {
  const o = f.object(value ?? {}, 'mail');
  f.rejectUnknown(o, 'mail', ['domain', 'messageBytesMax', 'quotaBytes', 'dnsServer', 'outboundPort', 'retry', 'queuePollMs']);
  const domain = f.string(o.domain ?? 'localhost', 'mail.domain').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    throw new ConfigError(f.file, 'mail.domain', `"${domain}" is not a domain name`);
  }
  const messageBytesMax = f.int(o.messageBytesMax ?? 25 * MIB, 'mail.messageBytesMax', 1024, 256 * MIB);
  const quotaBytes = f.int(o.quotaBytes ?? 1024 * MIB, 'mail.quotaBytes', 0, Number.MAX_SAFE_INTEGER);
  const dns = f.object(o.dnsServer ?? { host: '127.0.0.1', port: 53 }, 'mail.dnsServer');
  f.rejectUnknown(dns, 'mail.dnsServer', ['host', 'port']);
  const dnsServer = { host: f.host(dns.host, 'mail.dnsServer.host'), port: f.port(dns.port, 'mail.dnsServer.port') };
  const r = f.object(o.retry ?? {}, 'mail.retry');
  f.rejectUnknown(r, 'mail.retry', ['delayMs', 'delayMaxMs', 'attemptsMax', 'expiryMs']);
  const retry = {
    delayMs: f.int(r.delayMs ?? 60_000, 'mail.retry.delayMs', 10, 86_400_000),
    delayMaxMs: f.int(r.delayMaxMs ?? 3_600_000, 'mail.retry.delayMaxMs', 10, 86_400_000),
    attemptsMax: f.int(r.attemptsMax ?? 12, 'mail.retry.attemptsMax', 1, 1_000),
    expiryMs: f.int(r.expiryMs ?? 4 * 86_400_000, 'mail.retry.expiryMs', 1_000, 30 * 86_400_000),
  };
  if (retry.delayMaxMs < retry.delayMs) throw new ConfigError(f.file, 'mail.retry.delayMaxMs', `must be at least mail.retry.delayMs (${retry.delayMs})`);
  return {
    domain, messageBytesMax, quotaBytes, dnsServer, retry,
    outboundPort: f.port(o.outboundPort ?? 25, 'mail.outboundPort'),
    queuePollMs: f.int(o.queuePollMs ?? 1_000, 'mail.queuePollMs', 10, 600_000),
  };
}

function readAdmins(f: FieldReader, value: unknown): string[] {
  if (value === undefined) return [];
  const list = f.array(value, 'admins', 0);
  return list.map((item, i) => {
    const name = f.string(item, `admins[${i}]`).toLowerCase();
    if (!/^[a-z][a-z0-9._-]{2,31}$/.test(name)) throw new ConfigError(f.file, `admins[${i}]`, `"${name}" is not a valid username`);
    return name;
  });
}

function readTls(f: FieldReader, value: unknown, field: string): TlsFilesConfig | null {
  if (value === undefined || value === null) return null;
  const o = f.object(value, field);
  f.rejectUnknown(o, field, ['keyFile', 'certFile']);
  return { keyFile: f.string(o.keyFile, `${field}.keyFile`), certFile: f.string(o.certFile, `${field}.certFile`) };
}

function readSmtp(f: FieldReader, value: unknown): SmtpConfig {
  const o = f.object(value ?? {}, 'smtp');
  f.rejectUnknown(o, 'smtp', ['host', 'port', 'tls', 'localSenderPolicy', 'unauthenticatedMessagesPerWindow', 'unauthenticatedWindowMs']);
  return {
    host: f.host(o.host ?? '127.0.0.1', 'smtp.host'),
    port: f.port(o.port ?? 2500, 'smtp.port'),
    tls: readTls(f, o.tls, 'smtp.tls'),
    localSenderPolicy: f.oneOf(o.localSenderPolicy ?? 'mark', 'smtp.localSenderPolicy', ['mark', 'refuse'] as const),
    unauthenticatedMessagesPerWindow: f.int(o.unauthenticatedMessagesPerWindow ?? 60, 'smtp.unauthenticatedMessagesPerWindow', 1, 1_000_000),
    unauthenticatedWindowMs: f.int(o.unauthenticatedWindowMs ?? 60_000, 'smtp.unauthenticatedWindowMs', 1_000, 86_400_000),
  };
}

function readPop3(f: FieldReader, value: unknown): Pop3Config {
  const o = f.object(value ?? {}, 'pop3');
  f.rejectUnknown(o, 'pop3', ['host', 'port', 'idleTimeoutMs', 'failedLoginsMax', 'tls']);
  return {
    host: f.host(o.host ?? '127.0.0.1', 'pop3.host'),
    port: f.port(o.port ?? 11000, 'pop3.port'),
    idleTimeoutMs: f.int(o.idleTimeoutMs ?? 600_000, 'pop3.idleTimeoutMs', 1_000, 86_400_000),
    failedLoginsMax: f.int(o.failedLoginsMax ?? 3, 'pop3.failedLoginsMax', 1, 100),
    tls: readTls(f, o.tls, 'pop3.tls'),
  };
}

function readImap(f: FieldReader, value: unknown): ImapConfig {
  const o = f.object(value ?? {}, 'imap');
  f.rejectUnknown(o, 'imap', ['host', 'port', 'idleTimeoutMs', 'failedLoginsMax', 'connectionsMax', 'tls']);
  return {
    host: f.host(o.host ?? '127.0.0.1', 'imap.host'),
    port: f.port(o.port ?? 14300, 'imap.port'),
    // RFC 3501 §5.4: at least 30 minutes; clients re-issue IDLE every 29.
    idleTimeoutMs: f.int(o.idleTimeoutMs ?? 30 * 60_000, 'imap.idleTimeoutMs', 30 * 60_000, 86_400_000),
    failedLoginsMax: f.int(o.failedLoginsMax ?? 3, 'imap.failedLoginsMax', 1, 100),
    connectionsMax: f.int(o.connectionsMax ?? 1000, 'imap.connectionsMax', 1, 100_000),
    tls: readTls(f, o.tls, 'imap.tls'),
  };
}

function readDrive(f: FieldReader, value: unknown, kv: KvConfig): DriveConfig {
  const o = f.object(value ?? {}, 'drive');
  f.rejectUnknown(o, 'drive', ['chunkBytes', 'quotaBytes', 'uploadStaleMs', 'trashRetentionDays']);
  const chunkBytes = f.int(o.chunkBytes ?? MIB, 'drive.chunkBytes', 4096, 256 * MIB);
  // One chunk is one KV value: a bigger chunk could never be stored.
  if (chunkBytes > kv.valueBytesMax) {
    throw new ConfigError(f.file, 'drive.chunkBytes', `must not exceed kv.valueBytesMax (${kv.valueBytesMax}): one chunk is one stored value`);
  }
  const quotaBytes = f.int(o.quotaBytes ?? 10 * 1024 * MIB, 'drive.quotaBytes', 0, Number.MAX_SAFE_INTEGER);
  const uploadStaleMs = f.int(o.uploadStaleMs ?? 10 * 60_000, 'drive.uploadStaleMs', 1_000, 24 * 60 * 60_000);
  // A live upload's last chunk write must be over (done or timed out) before it can count as dead.
  if (uploadStaleMs < 2 * kv.requestTimeoutMs) {
    throw new ConfigError(f.file, 'drive.uploadStaleMs', `must be at least 2 x kv.requestTimeoutMs (${kv.requestTimeoutMs} ms)`);
  }
  const trashRetentionDays = f.int(o.trashRetentionDays ?? 30, 'drive.trashRetentionDays', 1, 3650);
  return { chunkBytes, quotaBytes, uploadStaleMs, trashRetentionDays };
}

function readSessions(f: FieldReader, value: unknown): SessionsConfig {
  const o = f.object(value ?? {}, 'sessions');
  f.rejectUnknown(o, 'sessions', ['idleTimeoutMs', 'absoluteTimeoutMs']);
  const DAY_MS = 24 * 60 * 60 * 1000;
  const idleTimeoutMs = f.int(o.idleTimeoutMs ?? DAY_MS, 'sessions.idleTimeoutMs', 1_000, 365 * DAY_MS);
  const absoluteTimeoutMs = f.int(o.absoluteTimeoutMs ?? 7 * DAY_MS, 'sessions.absoluteTimeoutMs', 1_000, 365 * DAY_MS);
  if (idleTimeoutMs > absoluteTimeoutMs) {
    throw new ConfigError(f.file, 'sessions.idleTimeoutMs', `must not exceed sessions.absoluteTimeoutMs (${absoluteTimeoutMs})`);
  }
  return { idleTimeoutMs, absoluteTimeoutMs };
}

function checkPortsDistinct(f: FieldReader, config: PennConfig): void {
  const seen = new Map<string, string>();
  const claim = (e: Endpoint, field: string): void => {
    const key = `${e.host}:${e.port}`;
    const other = seen.get(key);
    if (other !== undefined) throw new ConfigError(f.file, field, `${key} is already used by ${other}`);
    seen.set(key, field);
  };
  config.frontends.forEach((e, i) => claim(e, `frontends[${i}].port`));
  claim(config.dispatcher, 'dispatcher.port');
  claim(config.coordinator, 'coordinator.port');
  config.kv.nodes.forEach((e, i) => claim(e, `kv.nodes[${i}].port`));
  claim(config.smtp, 'smtp.port');
  claim(config.pop3, 'pop3.port');
  claim(config.imap, 'imap.port');
  claim(config.supervisor, 'supervisor.port');
}

/** Typed field access that names the field in every error. */
class FieldReader {
  constructor(readonly file: string) {}

  fail(field: string, problem: string): never {
    throw new ConfigError(this.file, field === '' ? '(root)' : field, problem);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string, minLength: number): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'must be an array');
    if (value.length < minLength) this.fail(field, `must have at least ${minLength} element(s)`);
    return value;
  }

  int(value: unknown, field: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(field, 'must be an integer');
    if (value < min || value > max) this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  string(value: unknown, field: string, allowEmpty = false): string {
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    if (!allowEmpty && value.length === 0) this.fail(field, 'must not be empty');
    return value;
  }

  host(value: unknown, field: string): string {
    const host = this.string(value, field);
    if (!/^[A-Za-z0-9.:-]+$/.test(host)) this.fail(field, `"${host}" is not a host name or address`);
    return host;
  }

  /**
   * The host of a role others connect to: the wildcard (0.0.0.0, ::) is refused, since it names
   * no address a peer could reach. `who` says who connects there.
   */
  peerHost(value: unknown, field: string, who: string): string {
    const host = this.host(value, field);
    if (isWildcardHost(host)) {
      this.fail(field, `"${host}" is the wildcard address, which no peer can connect to (${who}): name this host's own address`);
    }
    return host;
  }

  port(value: unknown, field: string): number {
    return this.int(value, field, 1, PORT_MAX);
  }

  url(value: unknown, field: string): string {
    const text = this.string(value, field);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.fail(field, `"${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') this.fail(field, 'must be an http or https URL');
    return text.replace(/\/+$/, '');
  }

  oneOf<T extends string | number>(value: unknown, field: string, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) this.fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return value as T;
  }

  rejectUnknown(o: Record<string, unknown>, field: string, known: string[]): void {
    for (const key of Object.keys(o)) {
      if (!known.includes(key)) this.fail(field === '' ? key : `${field}.${key}`, 'is not a known setting');
    }
  }
}
