/**
 * The one way services reach the store. Routes each row to the node serving its tablet,
 * pools and pipelines connections, times out every request, and turns every reply that is not
 * an answer into a PennError with a stable code (TOO_LARGE, BAD_REQUEST, UNAVAILABLE, TIMEOUT,
 * INTERNAL). Values are Buffers (strings are taken as UTF-8).
 *
 *   const kv = new KvClient({ cluster: config.kv, valueBytesMax, requestTimeoutMs });
 *   await kv.put('user:ann', 'profile', Buffer.from('{}'));
 *   const v = await kv.get('user:ann', 'profile');                 // Buffer | null
 *   const r = await kv.cput('user:ann', 'profile', v, newValue);   // { ok } | { ok: false, current }
 *   await kv.cput('user:bob', 'profile', null, value);             // create only if absent
 *   const existed = await kv.delete('user:ann', 'profile');
 */
import { randomBytes } from 'node:crypto';
import { PennError, type ErrorCode } from '../protocol/errors.js';
import {
  KV_LIST_PAGE_MAX, checkKey,
  type KvColumnEntry, type KvErrorStatus, type KvNodeStatus, type KvReply, type KvRequestBody,
} from '../protocol/kv-wire.js';
import { NodeConnection, type NodeAddress } from './node-connection.js';
import { TabletRouter, targetOf, type ClusterMapSource, type KvClusterMap, type NodeTarget } from './tablet-router.js';

export type { KvClusterMap } from './tablet-router.js';
export type { NodeAddress } from './node-connection.js';

export interface KvClientOptions {
  /** The tablet map to start from (conf/ `kv` fits). */
  cluster: KvClusterMap;
  /** Where a fresh map comes from after "wrong tablet"; default: the initial map again. */
  refreshCluster?: ClusterMapSource;
  valueBytesMax: number;
  requestTimeoutMs: number;
  /** Connections kept to each node (requests are pipelined on each). Default 2. */
  connectionsPerNode?: number;
  /** Send every request to this node instead of routing (debugging one node). */
  pinnedNode?: NodeAddress;
}

/** Requests one client may have in flight at once; past it requests fail fast. */
export const CLIENT_IN_FLIGHT_MAX = 10_000;

/** Times a request is retried after "wrong tablet" and a refresh of the map. */
export const WRONG_TABLET_RETRIES_MAX = 2;

const DEFAULT_CONNECTIONS_PER_NODE = 2;

const CODE_BY_STATUS: Record<KvErrorStatus, ErrorCode> = {
  WRONG_TABLET: 'UNAVAILABLE',
  TOO_LARGE: 'TOO_LARGE',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
};

export type CputResult = { ok: true } | { ok: false; current: Buffer | null };

export interface ListOptions {
  after?: string | null;
  limit?: number;
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

export class KvClient {
  private readonly router: TabletRouter;
  private readonly pools = new Map<string, NodeConnection[]>();
  private readonly clientId = randomBytes(8);
  private nextRequestId = 1;
  /** Requests in flight over all connections (each connection counts its own in and out). */
  private readonly counter = { inFlight: 0 };
  private closed = false;
  private readonly pinned: NodeTarget | undefined;

  constructor(private readonly options: KvClientOptions) {
    const initial = options.cluster;
    this.router = new TabletRouter(initial, options.refreshCluster ?? (() => Promise.resolve(initial)));
    this.pinned = options.pinnedNode === undefined ? undefined : targetOf(options.pinnedNode);
  }

  /** The value of a cell, or null when it does not exist. */
  get(row: string, column: string): Promise<Buffer | null> {
    return this.routed(row, { op: 'GET', row, column }).then((reply) => {
      if (reply.status === 'VALUE') return reply.value;
      if (reply.status === 'NOT_FOUND') return null;
      throw this.unexpected(reply);
    });
  }

  put(row: string, column: string, value: Buffer | string): Promise<void> {
    let body: KvRequestBody;
    try {
      body = { op: 'PUT', row, column, value: this.checkValue(toBuffer(value)) };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.routed(row, body).then((reply) => {
      if (reply.status !== 'OK') throw this.unexpected(reply);
    });
  }

  /**
   * Compare and put: stores `value` only if the cell holds `expected` now (null: only if the
   * cell is absent). On mismatch nothing changes and the current value is returned.
   */
  async cput(row: string, column: string, expected: Buffer | string | null, value: Buffer | string): Promise<CputResult> {
    const body: KvRequestBody = {
      op: 'CPUT', row, column,
      expected: expected === null ? { kind: 'absent' } : { kind: 'value', value: this.checkValue(toBuffer(expected)) },
      value: this.checkValue(toBuffer(value)),
    };
    const reply = await this.routed(row, body);
    if (reply.status === 'OK') return { ok: true };
    if (reply.status === 'CPUT_MISMATCH') return { ok: false, current: reply.current };
    throw this.unexpected(reply);
  }

  /** Deletes a cell; true when it existed. */
  async delete(row: string, column: string): Promise<boolean> {
    const reply = await this.routed(row, { op: 'DELETE', row, column });
    if (reply.status === 'OK') return true;
    if (reply.status === 'NOT_FOUND') return false;
    throw this.unexpected(reply);
  }

  /** A page of the row names of the tablet that starts at `tabletStart`, in key order. */
  async listRows(tabletStart: string, options: ListOptions = {}): Promise<{ rows: string[]; end: string | null; more: boolean }> {
    const limit = options.limit ?? KV_LIST_PAGE_MAX;
    const reply = await this.routed(tabletStart, { op: 'LIST_ROWS', tabletStart, after: options.after ?? null, limit });
    if (reply.status === 'ROWS') return { rows: reply.rows, end: reply.end, more: reply.more };
    throw this.unexpected(reply);
  }

  /** A page of the columns of `row` (names and value sizes), in key order. */
  async listColumns(row: string, options: ListOptions = {}): Promise<{ columns: KvColumnEntry[]; more: boolean }> {
    const limit = options.limit ?? KV_LIST_PAGE_MAX;
    const reply = await this.routed(row, { op: 'LIST_COLUMNS', row, after: options.after ?? null, limit });
    if (reply.status === 'COLUMNS') return { columns: reply.columns, more: reply.more };
    throw this.unexpected(reply);
  }

  /** The status of one node (by address), or of the pinned node. */
  async status(node?: NodeAddress): Promise<KvNodeStatus> {
    const target = node ?? this.options.pinnedNode ?? this.router.nodes()[0]!;
    const reply = await this.send(targetOf(target), { op: 'STATUS' });
    if (reply.status === 'STATUS') return reply.node;
    throw this.unexpected(reply);
  }

  /** The tablet map the client routes by now. */
  clusterMap(): KvClusterMap {
    return this.router.current;
  }

  /** Closes every connection; requests in flight fail with UNAVAILABLE. */
  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) for (const c of pool) c.close();
    this.pools.clear();
  }

  private checkValue(value: Buffer): Buffer {
    if (value.length > this.options.valueBytesMax) {
      throw new PennError('TOO_LARGE', `value of ${value.length} bytes exceeds the limit of ${this.options.valueBytesMax} bytes`);
    }
    return value;
  }

  private routed(row: string, body: KvRequestBody, attempt = 0): Promise<KvReply> {
    if (attempt === 0) {
      const problem = checkKeysOf(body);
      if (problem !== null) return Promise.reject(new PennError('BAD_REQUEST', problem));
    }
    let target: NodeTarget;
    try {
      target = this.pinned ?? this.router.nodeFor(row);
    } catch (err) {
      return Promise.reject(err);
    }
    const sent = this.send(target, body);
    if (this.pinned !== undefined || attempt >= WRONG_TABLET_RETRIES_MAX) return sent;
    return sent.then((reply) => (reply.status === 'WRONG_TABLET'
      ? this.router.refresh().then(() => this.routed(row, body, attempt + 1))
      : reply));
  }

  private send(target: NodeTarget, body: KvRequestBody): Promise<KvReply> {
    if (this.closed) return Promise.reject(new PennError('UNAVAILABLE', 'the KV client is closed'));
    if (this.counter.inFlight >= CLIENT_IN_FLIGHT_MAX) {
      return Promise.reject(new PennError('UNAVAILABLE', `more than ${CLIENT_IN_FLIGHT_MAX} KV requests in flight`, { reason: 'OVERLOADED' }));
    }
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffff_ffff ? 1 : this.nextRequestId + 1;
    return this.connectionTo(target).request(body, requestId, this.options.requestTimeoutMs);
  }

  /** The least busy pooled connection to a node, opening another while under the pool size. */
  private connectionTo(target: NodeTarget): NodeConnection {
    let pool = this.pools.get(target.key);
    if (pool === undefined) {
      pool = [];
      this.pools.set(target.key, pool);
    }
    let best: NodeConnection | undefined;
    for (const c of pool) if (best === undefined || c.inFlight < best.inFlight) best = c;
    const size = this.options.connectionsPerNode ?? DEFAULT_CONNECTIONS_PER_NODE;
    if (best === undefined || (best.inFlight > 0 && pool.length < size)) {
      best = new NodeConnection(target, this.clientId, this.options.valueBytesMax, this.options.requestTimeoutMs, this.counter);
      pool.push(best);
    }
    return best;
  }

  private unexpected(reply: KvReply): PennError {
    if (reply.status in CODE_BY_STATUS) {
      const status = reply.status as KvErrorStatus;
      const message = (reply as { message: string }).message;
      return new PennError(CODE_BY_STATUS[status], message, { reason: status });
    }
    return new PennError('INTERNAL', `unexpected KV reply ${reply.status}`);
  }
}


/** Why a request's keys are unusable, or null. */
function checkKeysOf(body: KvRequestBody): string | null {
  switch (body.op) {
    case 'GET': case 'PUT': case 'CPUT': case 'DELETE':
      return checkKey(body.row, 'row') ?? checkKey(body.column, 'column');
    case 'LIST_ROWS':
      return checkKey(body.tabletStart, 'row') ?? (body.after === null ? null : checkKey(body.after, 'row'));
    case 'LIST_COLUMNS':
      return checkKey(body.row, 'row') ?? (body.after === null ? null : checkKey(body.after, 'column'));
    case 'STATUS':
      return null;
  }
}
