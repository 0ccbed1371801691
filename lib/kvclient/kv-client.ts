/**
 * The one way services reach the store. Routes each row to the primary of its tablet's group
 * (the map comes from the coordinator and is cached), pools and pipelines connections, times
 * out every request, retries across failover within a bounded budget, and turns every reply
 * that is not an answer into a PennError with a stable code (TOO_LARGE, BAD_REQUEST,
 * UNAVAILABLE, TIMEOUT, INTERNAL). Values are Buffers (strings are taken as UTF-8).
 *
 * Retries are safe: every attempt of a request carries the same client id and request id, and
 * a primary that already applied that request (itself, or its predecessor before a failover)
 * answers it without applying it again.
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
import { fetchClusterMap } from './coordinator-map-source.js';
import { NodeConnection, type NodeAddress } from './node-connection.js';
import { TabletRouter, targetOf, type ClusterMapSource, type KvClusterMap, type NodeTarget } from './tablet-router.js';

export type { KvClusterMap } from './tablet-router.js';
export type { NodeAddress } from './node-connection.js';

export interface KvClientOptions {
  /** The tablet map to start from (conf/ `kv` fits). */
  cluster: KvClusterMap;
  /** The coordinator: where a fresh map comes from after "wrong tablet" or "not primary". */
  coordinator?: { host: string; port: number };
  /** Where a fresh map comes from instead (tests); default: the coordinator, else the initial map. */
  refreshCluster?: ClusterMapSource;
  /** How long one call may spend on attempts and retries in all; default requestTimeoutMs. */
  retryBudgetMs?: number;
  /**
   * How long one attempt waits for its node before the client asks for the map again and
   * retries (with the same request id, so a write is still applied at most once): a node that
   * stopped answering (paused, or on the far side of a broken link) is replaced by the
   * coordinator after its failure timeout, and the call should move on to the new primary.
   * Default ATTEMPT_TIMEOUT_MS_DEFAULT, never more than the budget.
   */
  attemptTimeoutMs?: number;
  valueBytesMax: number;
  requestTimeoutMs: number;
  /** Connections kept to each node (requests are pipelined on each). Default 2. */
  connectionsPerNode?: number;
  /**
   * Where reads go (conf kv.readFrom): "primary" (default; linearizable) or "any", spreading
   * GET and list requests over the members of the group's view; a member that will not serve
   * the read sends the call on to the primary. What "any" gives up: docs/kv-replication.md.
   */
  readFrom?: 'primary' | 'any';
  /** Send every request to this node instead of routing (debugging one node). */
  pinnedNode?: NodeAddress;
  /** The cluster secret: every connection to a node or the coordinator proves it first. */
  secret: Buffer;
  /**
   * The configured host of the role this client serves (a frontend's, the mail servers'): every
   * connection leaves from it (lib/protocol/source-address.ts). Default: the kernel chooses.
   */
  sourceHost?: string;
}

/** Requests one client may have in flight at once; past it requests fail fast. */
export const CLIENT_IN_FLIGHT_MAX = 10_000;

/**
 * Attempts of one call at most (each after a refresh of the map or a primary's name); with
 * the backoff below, about 20 s of retrying, which the time budget usually ends first.
 */
export const REQUEST_ATTEMPTS_MAX = 200;

/**
 * Wait before asking again after a refresh; doubles per attempt up to the maximum. The
 * maximum is small so that a client notices a new primary soon after the coordinator names it.
 */
export const RETRY_BACKOFF_MIN_MS = 20;
export const RETRY_BACKOFF_MAX_MS = 100;

/**
 * Default wait for one attempt: twice the default failure timeout of the coordinator (1 s), so
 * a silent primary has been replaced by the time the call asks again.
 */
export const ATTEMPT_TIMEOUT_MS_DEFAULT = 2_000;

/** "Not primary, ask X" answers followed in a row without a wait (stale views may ping-pong). */
const HINTS_IN_ROW_MAX = 2;

const DEFAULT_CONNECTIONS_PER_NODE = 2;

const CODE_BY_STATUS: Record<KvErrorStatus, ErrorCode> = {
  WRONG_TABLET: 'UNAVAILABLE',
  NOT_PRIMARY: 'UNAVAILABLE',
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
    const coordinator = options.coordinator;
    const source = options.refreshCluster
      ?? (coordinator !== undefined ? () => fetchClusterMap(coordinator, options.secret, undefined, options.sourceHost) : () => Promise.resolve(initial));
    this.router = new TabletRouter(initial, source);
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

  /**
   * Sends a request to the primary of its row's group; on an answer that means "ask
   * elsewhere" (not primary, wrong tablet, unavailable, connection lost) learns where, and
   * tries again with the same request id, until the budget runs out.
   */
  private async routed(row: string, body: KvRequestBody): Promise<KvReply> {
    const problem = checkKeysOf(body);
    if (problem !== null) throw new PennError('BAD_REQUEST', problem);
    const requestId = this.takeRequestId();
    const deadlineMs = Date.now() + (this.options.retryBudgetMs ?? this.options.requestTimeoutMs);
    let backoffMs = RETRY_BACKOFF_MIN_MS;
    let hintsInRow = 0;
    const anyReplica = this.pinned === undefined && this.readsFromAny(body);
    // Reads from any replica need the views' members, which only the coordinator's map has.
    if (anyReplica && this.router.current.secondaries === undefined && this.options.coordinator !== undefined) void this.router.refresh();
    for (let attempt = 1; ; attempt++) {
      let target: NodeTarget | null = null;
      let outcome: KvReply | Error;
      try {
        target = this.pinned ?? (attempt === 1 && anyReplica ? this.router.readerFor(row) : this.router.nodeFor(row));
        const attemptMs = Math.min(this.options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS_DEFAULT, deadlineMs - Date.now());
        outcome = await this.send(target, body, requestId, Math.max(1, attemptMs));
      } catch (err) {
        outcome = err as Error;
      }
      // An attempt that timed out with budget left: the node may be gone; ask the map again.
      const attemptTimedOut = outcome instanceof PennError && outcome.code === 'TIMEOUT' && Date.now() < deadlineMs;
      const retry = this.pinned === undefined && (isRetryable(outcome) || attemptTimedOut) && !this.closed;
      if (!retry || attempt >= REQUEST_ATTEMPTS_MAX || Date.now() + backoffMs >= deadlineMs) {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      }
      const hint = !(outcome instanceof Error) && outcome.status === 'NOT_PRIMARY' ? outcome.primary : null;
      // A member that would not serve a read is no longer in the view: learn the new one.
      if (anyReplica && attempt === 1 && !(outcome instanceof Error) && outcome.status === 'NOT_PRIMARY') void this.router.refresh();
      const hinted = hint === null ? undefined : this.router.current.nodes.find((n) => n.id === hint);
      if (hinted !== undefined && target !== null && targetOf(hinted).key !== target.key && hintsInRow < HINTS_IN_ROW_MAX) {
        hintsInRow++;
        this.router.primaryHint(row, hint!); // the node named the primary: go there at once
        continue;
      }
      hintsInRow = 0;
      await this.router.refresh();
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, RETRY_BACKOFF_MAX_MS);
    }
  }

  /** Whether `body` is a read that any member of the view may serve. */
  private readsFromAny(body: KvRequestBody): boolean {
    return this.options.readFrom === 'any' && (body.op === 'GET' || body.op === 'LIST_ROWS' || body.op === 'LIST_COLUMNS');
  }

  private takeRequestId(): number {
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffff_ffff ? 1 : this.nextRequestId + 1;
    return requestId;
  }

  private send(target: NodeTarget, body: KvRequestBody, requestId = this.takeRequestId(), timeoutMs = this.options.requestTimeoutMs): Promise<KvReply> {
    if (this.closed) return Promise.reject(new PennError('UNAVAILABLE', 'the KV client is closed'));
    if (this.counter.inFlight >= CLIENT_IN_FLIGHT_MAX) {
      return Promise.reject(new PennError('UNAVAILABLE', `more than ${CLIENT_IN_FLIGHT_MAX} KV requests in flight`, { reason: 'OVERLOADED' }));
    }
    return this.connectionTo(target).request(body, requestId, Math.min(timeoutMs, this.options.requestTimeoutMs));
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
      best = new NodeConnection(target, this.clientId, this.options.valueBytesMax, this.options.requestTimeoutMs, this.counter, this.options.secret, this.options.sourceHost);
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


/** Whether another node (or the same one a moment later) may answer differently. */
function isRetryable(outcome: KvReply | Error): boolean {
  if (outcome instanceof PennError) return outcome.code === 'UNAVAILABLE' && outcome.reason !== 'OVERLOADED';
  if (outcome instanceof Error) return false;
  return outcome.status === 'NOT_PRIMARY' || outcome.status === 'WRONG_TABLET' || outcome.status === 'UNAVAILABLE';
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
