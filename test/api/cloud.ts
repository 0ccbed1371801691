/**
 * Test support for the REST API: a real cloud of processes (three KV nodes, each its own
 * group with one of three tablets, so rows spread over all of them, and one or more
 * frontends), and a small cookie-keeping client for it.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import { clusterSecretOf, startRole, stopRole, tempDir, writeTestConfig, type RoleProcess } from '../support/roles.js';
export { allRows } from '../support/kv-rows.js';

/** Tablet starts of the test cloud: rows begin with two hash letters, so all three get rows. */
export const TEST_TABLET_STARTS = ['', 'i', 'r'];

export interface CloudOptions {
  frontends?: number;
  drive?: { chunkBytes?: number; quotaBytes?: number; uploadStaleMs?: number };
  /** The store's request timeout (conf kv.requestTimeoutMs); default 30 s. */
  kvRequestTimeoutMs?: number;
  sessions?: { idleTimeoutMs?: number; absoluteTimeoutMs?: number };
  /** The `mail` section of the configuration (domain, limits, DNS server, retries). */
  mail?: Record<string, unknown>;
  /**
   * One replica group of the three nodes (with a coordinator choosing its primary) instead of
   * three single-node groups: every write is replicated three times.
   */
  replicated?: boolean;
  /** Conf `admins`: names only `penncloud admin add` creates. */
  admins?: string[];
  /** Conf `https`: the frontends and the dispatcher serve HTTPS with these files. */
  https?: { keyFile: string; certFile: string };
  /** Also start the dispatcher (its URL is `dispatcherUrl`). */
  dispatcher?: boolean;
}

export interface Cloud {
  conf: string;
  dataDir: string;
  kvNodes: RoleProcess[];
  frontends: RoleProcess[];
  /** Base URLs of the frontends, in id order. */
  urls: string[];
  /** The dispatcher's base URL, when it was started (CloudOptions.dispatcher). */
  dispatcherUrl: string | null;
  kvConfig: { nodes: { id: number; host: string; port: number }[]; groups: number[][]; tablets: { start: string; group: number }[] };
  /** Restarts frontend `index` (same configuration); its URL stays the same. */
  restartFrontend(index: number): Promise<void>;
  /** Kills KV node `id` with SIGKILL; `startKvNode` brings it back on its data. */
  killKvNode(id: number): Promise<void>;
  startKvNode(id: number): Promise<void>;
  /** A KV client on the cloud's store, for checks the API cannot make (rows left behind). */
  kvClient(): KvClient;
}

const openClients = new Set<KvClient>();

/** Closes the KV clients tests opened (for afterEach, beside killAllRoles). */
export function closeKvClients(): void {
  for (const c of openClients) c.close();
  openClients.clear();
}

/** Starts three KV nodes and the frontends; resolves when every one printed READY. */
export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
  const dir = tempDir('penncloud-api-');
  const dataDir = join(dir, 'data');
  let kvConfig: Cloud['kvConfig'] | undefined;
  let coordinator: { host: string; port: number } | undefined;
  let ports: number[] = [];
  let conf = '';
  // freePort() may hand out one port twice (each listener closes before the next asks), and
  // a configuration with a port used twice is refused: draw again, a bounded number of times.
  for (let attempt = 0; attempt < PORT_DRAWS_MAX && (conf === '' || new Set(ports).size !== ports.length); attempt++) {
    conf = await writeTestConfig(dir, {
      frontends: options.frontends ?? 1,
      patch: (c) => {
        c.kv.groups = options.replicated ? [[0, 1, 2]] : [[0], [1], [2]];
        c.kv.tablets = TEST_TABLET_STARTS.map((start, group) => ({ start, group: options.replicated ? 0 : group }));
        c.kv.requestTimeoutMs = options.kvRequestTimeoutMs ?? 30_000;
        if (options.drive !== undefined) c.drive = options.drive;
        if (options.sessions !== undefined) c.sessions = options.sessions;
        if (options.mail !== undefined) c.mail = options.mail;
        if (options.admins !== undefined) c.admins = options.admins;
        if (options.https !== undefined) c.https = options.https;
        kvConfig = c.kv;
        coordinator = c.coordinator;
        ports = portsOf(c);
      },
    });
  }
  if (options.replicated) await startRole(['coordinator', '--conf', conf, '--data', dataDir]);
  const kvArgs = (id: number): string[] => ['kvnode', '--id', String(id), '--conf', conf, '--data', dataDir];
  const kvNodes = await Promise.all([0, 1, 2].map((id) => startRole(kvArgs(id))));
  const frontendArgs = (i: number): string[] => ['frontend', '--id', String(i + 1), '--conf', conf, '--data', dataDir];
  // The dispatcher first, so it hears the frontends' first heartbeats.
  const dispatcher = options.dispatcher ? await startRole(['dispatcher', '--conf', conf, '--data', dataDir]) : null;
  const frontends = await Promise.all(Array.from({ length: options.frontends ?? 1 }, (_v, i) => startRole(frontendArgs(i))));
  const cloud: Cloud = {
    conf, dataDir, kvNodes, frontends, kvConfig: kvConfig!,
    urls: frontends.map((f) => f.ready),
    dispatcherUrl: dispatcher === null ? null : dispatcher.ready,
    async restartFrontend(index) {
      await stopRole(cloud.frontends[index]!);
      cloud.frontends[index] = await startRole(frontendArgs(index));
    },
    async killKvNode(id) {
      await stopRole(cloud.kvNodes[id]!, 'SIGKILL');
    },
    async startKvNode(id) {
      cloud.kvNodes[id] = await startRole(kvArgs(id));
    },
    kvClient() {
      const client = new KvClient({
        cluster: kvConfig!, valueBytesMax: 8 * 1024 * 1024, requestTimeoutMs: 30_000, secret: clusterSecretOf(dataDir),
        ...(options.replicated ? { coordinator: coordinator! } : {}),
      });
      openClients.add(client);
      return client;
    },
  };
  return cloud;
}

/** Times a test configuration is drawn again because two of its ports came out equal. */
const PORT_DRAWS_MAX = 5;

/** Every port a configuration names. */
function portsOf(c: Record<string, any>): number[] {
  const endpoints = [...c.frontends, ...c.kv.nodes, c.dispatcher, c.coordinator, c.smtp, c.pop3, c.imap];
  return endpoints.filter((e) => e !== undefined).map((e: { port: number }) => e.port);
}

export interface ApiReply {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body parsed as JSON (throws if it is not). */
  json(): any;
}

/** The header PennCloud's own app sends with every state-changing request. */
export const MARK = { 'x-penncloud-request': '1' };

/** A client that keeps the session cookie it is given, like a browser would. */
export class ApiClient {
  cookie: string | null = null;

  constructor(public baseUrl: string) {}

  /** Sends a request; `json` sets the body and Content-Type, `body` sends raw bytes. */
  async request(method: string, path: string, init: { json?: unknown; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<ApiReply> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie !== null) headers.cookie = this.cookie;
    let body: Buffer | string | undefined = init.body;
    if (init.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const bytes = Buffer.from(await res.arrayBuffer());
    const setCookie = res.headers.getSetCookie();
    for (const line of setCookie) {
      const match = /^penncloud_session=([^;]*)/.exec(line);
      if (match) this.cookie = match[1] === '' ? null : `penncloud_session=${match[1]}`;
    }
    return { status: res.status, headers: res.headers, body: bytes, json: () => JSON.parse(bytes.toString('utf8')) };
  }

  signUp(username: string, password: string): Promise<ApiReply> {
    return this.request('POST', '/api/users', { json: { username, password } });
  }

  logIn(username: string, password: string): Promise<ApiReply> {
    return this.request('POST', '/api/session', { json: { username, password } });
  }

  /** Signs up and logs in; fails the test if either does not succeed. */
  async signUpAndLogIn(username: string, password = 'correct horse'): Promise<this> {
    const up = await this.signUp(username, password);
    if (up.status !== 201) throw new Error(`sign-up of ${username}: ${up.status} ${up.body.toString()}`);
    const login = await this.logIn(username, password);
    if (login.status !== 200) throw new Error(`log-in of ${username}: ${login.status} ${login.body.toString()}`);
    return this;
  }

  put(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<ApiReply> {
    return this.request('PUT', `/api/files${path}`, { body, headers: { ...MARK, ...headers } });
  }

  get(path: string, headers: Record<string, string> = {}): Promise<ApiReply> {
    return this.request('GET', `/api/files${path}`, { headers });
  }

  mkdir(path: string, query = ''): Promise<ApiReply> {
    return this.request('POST', `/api/folders${path}${query}`, { headers: MARK });
  }

  move(from: string, to: string): Promise<ApiReply> {
    return this.request('POST', '/api/move', { json: { from, to } });
  }

  remove(path: string, query = ''): Promise<ApiReply> {
    return this.request('DELETE', `/api/files${path}${query}`, { headers: MARK });
  }

  /** Names in a folder listing (fails the test on an error reply). */
  async names(path: string): Promise<string[]> {
    const reply = await this.get(path);
    if (reply.status !== 200) throw new Error(`listing ${path}: ${reply.status} ${reply.body.toString()}`);
    return reply.json().entries.map((e: { name: string }) => e.name);
  }
}

/** The error code and reason of an error reply. */
export function errorOf(reply: ApiReply): { code: string; reason?: string; message: string } {
  return reply.json().error;
}

/** Deterministic bytes: `size` of them, different for every seed, all 256 values present. */
export function bytesFor(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The reply to a streamed upload, or the error that ended it before a reply came. */
export type StreamedReply = { status: number; body: Buffer } | { error: Error };

/**
 * PUTs `source` as a request body with backpressure (never more than one piece buffered
 * here): with Content-Length when `length` is given, chunked otherwise. Stops sending once a
 * reply arrives (the server may refuse early).
 */
export function streamingPut(url: string, cookie: string | null, source: AsyncIterable<Buffer>, length: number | null): Promise<StreamedReply> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...MARK };
    if (cookie !== null) headers.cookie = cookie;
    if (length !== null) headers['content-length'] = String(length);
    const req = httpRequest(url, { method: 'PUT', headers, agent: false });
    let settled = false;
    const settle = (reply: StreamedReply): void => {
      if (settled) return;
      settled = true;
      resolve(reply);
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => settle({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', (err) => settle({ error: err }));
    });
    req.on('error', (err) => {
      // A refusal may reset the connection while we still send: wait briefly for the reply.
      setTimeout(() => settle({ error: err }), 2_000);
    });
    void (async () => {
      try {
        for await (const piece of source) {
          if (settled || req.destroyed) return;
          if (!req.write(piece)) {
            await new Promise<void>((r) => {
              const done = (): void => { req.off('drain', done); req.off('close', done); r(); };
              req.on('drain', done);
              req.on('close', done);
            });
          }
        }
        if (!req.destroyed) req.end();
      } catch (err) {
        req.destroy(err as Error);
      }
    })();
  });
}
