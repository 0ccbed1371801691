/**
 * Which node serves a row: the tablet map (tablet starts -> replica group -> its primary),
 * cached and refreshed from its source (the coordinator) when a node answers "wrong tablet"
 * or "not primary" or cannot be reached. A "not primary" answer that names the primary moves
 * the group there at once, without asking the source. A group whose primary is unknown is
 * tried at its first node (which names the primary if it knows it).
 */
import { PennError } from '../protocol/errors.js';
import type { NodeAddress } from './node-connection.js';

/** The shape of the cluster a client routes by (what conf/ kv gives, or a coordinator later). */
export interface KvClusterMap {
  nodes: { id: number; host: string; port: number }[];
  groups: number[][];
  /** Ordered by start; the first starts at "". */
  tablets: { start: string; group: number }[];
  /** Per group, its primary when known (from the coordinator); absent or null: unknown. */
  primaries?: (number | null)[];
}

export type ClusterMapSource = () => Promise<KvClusterMap>;

/** A node address with its pool key, built once per map rather than per request. */
export interface NodeTarget extends NodeAddress {
  key: string;
}

export class TabletRouter {
  private map: KvClusterMap;
  /** Per tablet of the map: its start and the node its requests go to (null: none). */
  private routes: { start: string; target: NodeTarget | null }[] = [];
  private refreshing: Promise<Error | null> | null = null;

  constructor(initial: KvClusterMap, private readonly source: ClusterMapSource) {
    this.map = initial;
    this.routes = buildRoutes(initial);
  }

  get current(): KvClusterMap {
    return this.map;
  }

  /** The node to send a request about `row` to. */
  nodeFor(row: string): NodeTarget {
    const routes = this.routes;
    let lo = 0;
    let hi = routes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (routes[mid]!.start <= row) lo = mid;
      else hi = mid - 1;
    }
    const target = routes[lo]?.target;
    if (target === null || target === undefined) {
      throw new PennError('UNAVAILABLE', `no node serves row ${JSON.stringify(row.slice(0, 64))}`, { reason: 'NO_ROUTE' });
    }
    return target;
  }

  /** Fetches the map again; on failure the cached map stays (and the error is returned). */
  refresh(): Promise<Error | null> {
    // Concurrent failures share one ask.
    if (this.refreshing === null) {
      this.refreshing = this.source().then((map) => {
        this.map = map;
        this.routes = buildRoutes(map);
        return null;
      }, (err: unknown) => err as Error).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** A node said `primary` is the primary of the group holding `row`. */
  primaryHint(row: string, primary: number): void {
    const group = this.groupOf(row);
    if (group === undefined) return;
    const primaries = [...(this.map.primaries ?? this.map.groups.map(() => null))];
    primaries[group] = primary;
    this.map = { ...this.map, primaries };
    this.routes = buildRoutes(this.map);
  }

  private groupOf(row: string): number | undefined {
    let found: number | undefined;
    for (const t of this.map.tablets) {
      if (t.start <= row) found = t.group;
      else break;
    }
    return found;
  }

  /** Every node address of the map. */
  nodes(): NodeAddress[] {
    return this.map.nodes.map((n) => ({ host: n.host, port: n.port }));
  }
}

/** A tablet's requests go to its group's primary, or its first node while that is unknown. */
function buildRoutes(map: KvClusterMap): { start: string; target: NodeTarget | null }[] {
  return map.tablets.map((t) => {
    const chosen = map.primaries?.[t.group] ?? map.groups[t.group]?.[0];
    const node = map.nodes.find((n) => n.id === chosen);
    return { start: t.start, target: node === undefined ? null : targetOf(node) };
  });
}

export function targetOf(address: NodeAddress): NodeTarget {
  return { host: address.host, port: address.port, key: `${address.host}:${address.port}` };
}
