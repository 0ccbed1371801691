/**
 * The configuration of a cloud: one JSON file (default conf/local.json) read and validated at
 * start-up. A bad file stops the process with a message naming the field. Only entry files
 * (lib/cli) load it; the layers receive plain values.
 */
import { readFileSync } from 'node:fs';

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
  requestTimeoutMs: number;
  readFrom: 'primary' | 'any';
}

/** The drive (storage service) as the frontends run it. */
export interface DriveConfig {
  /** Bytes per chunk of a stored file; at most kv.valueBytesMax (one chunk is one value). */
  chunkBytes: number;
  /** Bytes each user may store in the drive. */
  quotaBytes: number;
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
  const config: PennConfig = {
    http: readHttp(f, root.http),
    frontends: readFrontends(f, root.frontends),
    dispatcher: readDispatcher(f, root.dispatcher),
    coordinator: readCoordinator(f, root.coordinator),
    kv: readKv(f, root.kv),
    drive: { chunkBytes: 0, quotaBytes: 0 },
    sessions: readSessions(f, root.sessions),
  };
  config.drive = readDrive(f, root.drive, config.kv);
  f.rejectUnknown(root, '', ['http', 'frontends', 'dispatcher', 'coordinator', 'kv', 'drive', 'sessions']);
  checkPortsDistinct(f, config);
  return config;
}

function readHttp(f: FieldReader, value: unknown): HttpLimitsConfig {
  if (value === undefined) return {};
  const o = f.object(value, 'http');
  const keys = [
    'requestLineBytesMax', 'headBytesMax', 'headersCountMax', 'bodyBytesMax', 'headTimeoutMs',
    'idleTimeoutMs', 'requestsPerConnectionMax', 'shutdownGraceMs',
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

function readFrontends(f: FieldReader, value: unknown): FrontendConfig[] {
  const list = f.array(value, 'frontends', 1);
  const ids = new Set<number>();
  return list.map((item, i) => {
    const path = `frontends[${i}]`;
    const o = f.object(item, path);
    f.rejectUnknown(o, path, ['id', 'host', 'port', 'publicUrl']);
    const id = f.int(o.id, `${path}.id`, 0, 1_000);
    if (ids.has(id)) throw new ConfigError(f.file, `${path}.id`, `duplicate frontend id ${id}`);
    ids.add(id);
    const host = f.host(o.host, `${path}.host`);
    const port = f.port(o.port, `${path}.port`);
    const publicUrl = o.publicUrl === undefined
      ? `http://${host.includes(':') ? `[${host}]` : host}:${port}`
      : f.url(o.publicUrl, `${path}.publicUrl`);
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
    host: f.host(o.host ?? '127.0.0.1', 'dispatcher.host'),
    port: f.port(o.port ?? 9000, 'dispatcher.port'),
    policy, redirectStatus, heartbeatIntervalMs, frontendTimeoutMs,
  };
}

function readCoordinator(f: FieldReader, value: unknown): CoordinatorConfig {
  const o = f.object(value ?? {}, 'coordinator');
  f.rejectUnknown(o, 'coordinator', ['host', 'port', 'heartbeatIntervalMs', 'failureTimeoutMs']);
  const heartbeatIntervalMs = f.int(o.heartbeatIntervalMs ?? 250, 'coordinator.heartbeatIntervalMs', 10, 60_000);
  const failureTimeoutMs = f.int(o.failureTimeoutMs ?? 1_000, 'coordinator.failureTimeoutMs', 30, 600_000);
  // DESIGN.md: heartbeat interval x 3 < failure timeout, so one lost heartbeat is not a failure.
  if (heartbeatIntervalMs * 3 >= failureTimeoutMs) {
    throw new ConfigError(f.file, 'coordinator.failureTimeoutMs',
      `must be more than 3 x coordinator.heartbeatIntervalMs (${heartbeatIntervalMs} ms)`);
  }
  return {
    host: f.host(o.host ?? '127.0.0.1', 'coordinator.host'),
    port: f.port(o.port ?? 9999, 'coordinator.port'),
    heartbeatIntervalMs, failureTimeoutMs,
  };
}

function readKv(f: FieldReader, value: unknown): KvConfig {
  const o = f.object(value, 'kv');
  f.rejectUnknown(o, 'kv', ['nodes', 'groups', 'tablets', 'valueBytesMax', 'memoryBudgetBytes',
    'tabletSplitBytes', 'checkpointLogBytes', 'requestTimeoutMs', 'readFrom']);
  const nodeIds = new Set<number>();
  const nodes = f.array(o.nodes, 'kv.nodes', 1).map((item, i) => {
    const path = `kv.nodes[${i}]`;
    const n = f.object(item, path);
    f.rejectUnknown(n, path, ['id', 'host', 'port']);
    const id = f.int(n.id, `${path}.id`, 0, 10_000);
    if (nodeIds.has(id)) throw new ConfigError(f.file, `${path}.id`, `duplicate node id ${id}`);
    nodeIds.add(id);
    return { id, host: f.host(n.host, `${path}.host`), port: f.port(n.port, `${path}.port`) };
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
    requestTimeoutMs: f.int(o.requestTimeoutMs ?? 5_000, 'kv.requestTimeoutMs', 10, 600_000),
    readFrom: f.oneOf(o.readFrom ?? 'primary', 'kv.readFrom', ['primary', 'any'] as const),
  };
}

function readDrive(f: FieldReader, value: unknown, kv: KvConfig): DriveConfig {
  const o = f.object(value ?? {}, 'drive');
  f.rejectUnknown(o, 'drive', ['chunkBytes', 'quotaBytes']);
  const chunkBytes = f.int(o.chunkBytes ?? MIB, 'drive.chunkBytes', 4096, 256 * MIB);
  // One chunk is one KV value: a bigger chunk could never be stored.
  if (chunkBytes > kv.valueBytesMax) {
    throw new ConfigError(f.file, 'drive.chunkBytes', `must not exceed kv.valueBytesMax (${kv.valueBytesMax}): one chunk is one stored value`);
  }
  const quotaBytes = f.int(o.quotaBytes ?? 10 * 1024 * MIB, 'drive.quotaBytes', 0, Number.MAX_SAFE_INTEGER);
  return { chunkBytes, quotaBytes };
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
