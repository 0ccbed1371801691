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
  /** Per group, the secondaries of its current view (from the coordinator); absent: unknown. */
  secondaries?: number[][];
}

export type ClusterMapSource = () => Promise<KvClusterMap>;

/** A node address with its pool key, built once per map rather than per request. */
export interface NodeTarget extends NodeAddress {
  key: string;
}

export class TabletRouter {
  private map: KvClusterMap;
  /**
   * Per tablet of the map: its start, the node its requests go to (null: none), and the
   * members of its group's view (primary and secondaries) that may serve reads from any replica.
   */
  private routes: Route[] = [];
  /** Turns over the members a read from any replica goes to. */
  private nextReader = 0;
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
    const target = this.routeFor(row)?.target;
    if (target === null || target === undefined) {
      throw new PennError('UNAVAILABLE', `no node serves row ${JSON.stringify(row.slice(0, 64))}`, { reason: 'NO_ROUTE' });
    }
    return target;
  }

  /**
   * A member of the view of the group holding `row`, in turn, for a read that any replica may
   * serve (kv.readFrom "any"); the primary while the view's members are unknown.
   */
  readerFor(row: string): NodeTarget {
    const readers = this.routeFor(row)?.readers ?? [];
    if (readers.length === 0) return this.nodeFor(row);
    this.nextReader = (this.nextReader + 1) % 0x4000_0000;
    return readers[this.nextReader % readers.length]!;
  }

  private routeFor(row: string): Route | undefined {
    const routes = this.routes;
    let lo = 0;
    let hi = routes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (routes[mid]!.start <= row) lo = mid;
      else hi = mid - 1;
    }
    return routes[lo];
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

interface Route {
  start: string;
  target: NodeTarget | null;
  readers: NodeTarget[];
}

/**
 * A tablet's requests go to its group's primary, or its first node while that is unknown;
 * reads from any replica go to the primary and secondaries of the view, when both are known.
 */
function buildRoutes(map: KvClusterMap): Route[] {
  const target = (id: number | null | undefined): NodeTarget | null => {
    const node = map.nodes.find((n) => n.id === id);
    return node === undefined ? null : targetOf(node);
  };
  return map.tablets.map((t) => {
    const primary = map.primaries?.[t.group] ?? null;
    const readers: NodeTarget[] = [];
    if (primary !== null && map.secondaries?.[t.group] !== undefined) {
      for (const id of [primary, ...map.secondaries[t.group]!]) {
        const reader = target(id);
        if (reader !== null) readers.push(reader);
      }
    }
    return { start: t.start, target: target(primary ?? map.groups[t.group]?.[0]), readers };
  });
}

export function targetOf(address: NodeAddress): NodeTarget {
  return { host: address.host, port: address.port, key: `${address.host}:${address.port}` };
}
