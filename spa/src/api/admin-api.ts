/**
 * The admin API (`/api/admin/...`, admins only): node states, disable and restart, the tablet
 * map and raw cells. Replies pass through normalizers that accept the field names the API may
 * use, so the console shows what is there and leaves out what is not.
 */
import { ApiError } from './api-error';
import { requestJson, send } from './http';

export interface NodeStatus {
  id: string;
  kind: 'frontend' | 'storage';
  label: string;
  address: string;
  state: string;
  view: number | null;
  tablets: string | null;
  memoryBytes: number | null;
  logBytes: number | null;
  lastCheckpointMs: number | null;
  heartbeatAgeMs: number | null;
}

export interface TabletStatus {
  id: string;
  start: string;
  end: string | null;
  group: string;
  primary: string | null;
  secondaries: string[];
  bytes: number | null;
}

export interface Cell {
  row: string;
  column: string;
  value: string;
  hex: boolean;
  sizeBytes: number;
  truncated: boolean;
}

export interface CellPage {
  cells: Cell[];
  nextCursor: string | null;
}

/** Cells per page of the raw data view. */
export const CELLS_PER_PAGE = 10;

type Loose = Record<string, unknown>;

export interface NodesReport {
  nodes: NodeStatus[];
  /** False when the roles do not run under `penncloud up`: frontends cannot be stopped then. */
  supervised: boolean;
}

export async function listNodes(signal?: AbortSignal): Promise<NodesReport> {
  const reply = await requestJson<Loose>('GET', '/api/admin/nodes', { signal });
  const frontends = asList(reply.frontends).map((n) => nodeOf(n, 'frontend'));
  const storage = asList(reply.storage ?? reply.kvNodes ?? reply.storageNodes).map((n) => nodeOf(n, 'storage'));
  const mixed = asList(reply.nodes).map((n) => nodeOf(n, /front/i.test(String(n.kind ?? n.role ?? n.type ?? n.name ?? '')) ? 'frontend' : 'storage'));
  return { nodes: [...frontends, ...storage, ...mixed], supervised: reply.supervised !== false };
}

export async function disableNode(id: string): Promise<void> {
  await send('POST', `/api/admin/nodes/${encodeURIComponent(id)}/disable`);
}

export async function restartNode(id: string): Promise<void> {
  await send('POST', `/api/admin/nodes/${encodeURIComponent(id)}/restart`);
}

/**
 * The tablet map. The coordinator's map lists tablets by start row and group, and each group's
 * view (primary, secondaries); a tablet ends where the next one starts.
 */
export async function listTablets(signal?: AbortSignal): Promise<TabletStatus[]> {
  const reply = await requestJson<Loose>('GET', '/api/admin/tablets', { signal });
  const map = (reply.map ?? reply) as Loose;
  const views = new Map(asList(map.views).map((v) => [String(v.group), v]));
  const tablets = asList(map.tablets).sort((a, b) => (String(a.start ?? '') < String(b.start ?? '') ? -1 : 1));
  return tablets.map((t, i) => {
    const group = String(t.group ?? t.groupId ?? '');
    const view = views.get(group);
    const next = tablets[i + 1];
    return {
      id: String(t.start ?? i),
      start: String(t.start ?? ''),
      end: t.end !== undefined && t.end !== null ? String(t.end) : next === undefined ? null : String(next.start ?? ''),
      group,
      primary: nodeName(t.primary ?? view?.primary),
      secondaries: asArray(t.secondaries ?? view?.secondaries).map((n) => nodeName(n) ?? '?'),
      bytes: num(t.bytes ?? t.sizeBytes),
    };
  });
}

/** Storage nodes are named kvnode-N in the API; a bare number is that node. */
function nodeName(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'number' ? `kvnode-${value}` : String(value);
}

/** A page of a tablet's cells; `tablet` is the tablet's first row key (its start). */
export async function readCells(tablet: string, cursor: string | null, signal?: AbortSignal): Promise<CellPage> {
  const query = new URLSearchParams({ tablet, limit: String(CELLS_PER_PAGE) });
  if (cursor !== null) query.set('cursor', cursor);
  const reply = await requestJson<Loose>('GET', `/api/admin/data?${query}`, { signal });
  return {
    cells: asList(reply.cells ?? reply.entries).map((c) => ({
      row: String(c.row ?? ''),
      column: String(c.column ?? c.col ?? ''),
      value: String(c.value ?? c.text ?? c.hex ?? ''),
      hex: c.encoding === 'hex' || (c.hex !== undefined && c.text === undefined && c.value === undefined),
      sizeBytes: num(c.size ?? c.sizeBytes) ?? 0,
      truncated: c.truncated === true,
    })),
    nextCursor: str(reply.nextCursor ?? reply.next),
  };
}

/**
 * Whether this user may open the console: the session reply may say so; otherwise one small
 * admin request answers it (403 for users, 404 where there is no admin API).
 */
export async function mayAdminister(flag: boolean | undefined): Promise<boolean> {
  if (flag !== undefined) return flag;
  try {
    await send('GET', '/api/admin/tablets', { quietUnauthenticated: true });
    return true;
  } catch {
    return false;
  }
}

/** Why the console cannot be shown, when the API says so (404: no admin API; 403: not an admin). */
export function adminRefusal(err: unknown): 'missing' | 'forbidden' | null {
  if (!(err instanceof ApiError)) return null;
  if (err.status === 404 && /^no such resource/i.test(err.message)) return 'missing';
  if (err.status === 403) return 'forbidden';
  return null;
}

function nodeOf(n: Loose, kind: NodeStatus['kind']): NodeStatus {
  // Actions address a node by its name (kvnode-3, frontend-1); storage reports carry a number id too.
  const id = String(n.name ?? n.id ?? n.nodeId ?? '');
  const host = n.host === undefined ? '' : `${String(n.host)}${n.port === undefined ? '' : `:${String(n.port)}`}`;
  const figures = (n.figures ?? null) as Loose | null;
  const status = (n.status ?? null) as Loose | null;
  const statusTablets = status === null ? undefined : status.tablets;
  const tablets = n.tablets ?? figures?.tablets ?? (Array.isArray(statusTablets) ? statusTablets.length : undefined);
  const log = (status?.log ?? null) as Loose | null;
  const checkpoint = (figures?.lastCheckpoint ?? status?.lastCheckpoint ?? null) as Loose | null;
  const group = n.group === undefined ? '' : ` · group ${String(n.group)}`;
  return {
    id,
    kind,
    label: kind === 'frontend' ? id.replace(/^frontend-/, 'Frontend ') : `${id.replace(/^kvnode-/, 'Node ')}${group}`,
    address: String(n.url ?? n.address ?? host),
    state: typeof n.state === 'string' ? n.state : n.alive === true ? 'ALIVE' : n.alive === false ? 'DOWN' : 'UNKNOWN',
    view: num(n.view ?? n.epoch),
    tablets: Array.isArray(tablets) ? tablets.map(String).join(', ') || '—' : tablets === undefined ? null : String(tablets),
    memoryBytes: num(n.memoryBytes ?? figures?.memoryBytes ?? status?.memoryBytes),
    logBytes: num(n.logBytes ?? figures?.logBytes ?? log?.bytes),
    lastCheckpointMs: num(n.lastCheckpointMs ?? checkpoint?.atMs),
    heartbeatAgeMs: num(n.heartbeatAgeMs),
  };
}

function asList(value: unknown): Loose[] {
  return Array.isArray(value) ? value.filter((v): v is Loose => typeof v === 'object' && v !== null) : [];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
