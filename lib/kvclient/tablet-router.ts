/**
 * Which node serves a row: the tablet map (tablet starts -> replica group -> nodes), cached
 * and refreshed from its source when a node answers "wrong tablet". For now the source is the
 * configuration and a row goes to the first node of its group.
 */
import { PennError } from '../protocol/errors.js';
import type { NodeAddress } from './node-connection.js';

/** The shape of the cluster a client routes by (what conf/ kv gives, or a coordinator later). */
export interface KvClusterMap {
  nodes: { id: number; host: string; port: number }[];
  groups: number[][];
  /** Ordered by start; the first starts at "". */
  tablets: { start: string; group: number }[];
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

  /** Fetches the map again (after a "wrong tablet" answer). */
  async refresh(): Promise<void> {
    this.map = await this.source();
    this.routes = buildRoutes(this.map);
  }

  /** Every node address of the map. */
  nodes(): NodeAddress[] {
    return this.map.nodes.map((n) => ({ host: n.host, port: n.port }));
  }
}

/** For now a tablet's requests go to the first node of its group. */
function buildRoutes(map: KvClusterMap): { start: string; target: NodeTarget | null }[] {
  return map.tablets.map((t) => {
    const first = map.groups[t.group]?.[0];
    const node = map.nodes.find((n) => n.id === first);
    return { start: t.start, target: node === undefined ? null : targetOf(node) };
  });
}

export function targetOf(address: NodeAddress): NodeTarget {
  return { host: address.host, port: address.port, key: `${address.host}:${address.port}` };
}
