/**
 * Where a client learns the cluster map: the coordinator's `map` request (tablets, the view of
 * every group with its primary, node addresses; docs/coordinator-protocol.md). One short
 * connection per ask: clients ask only when a node answers "wrong tablet" or "not primary" or
 * cannot be reached, so there is nothing to keep open.
 */
import type { ClusterMap, CoordinatorReply } from '../protocol/coordinator-wire.js';
import { PennError } from '../protocol/errors.js';
import { JsonLineClient } from './json-line-client.js';
import type { KvClusterMap } from './tablet-router.js';

/** How long one ask for the map may take before the client keeps its cached map. */
export const MAP_FETCH_TIMEOUT_MS = 2_000;

/**
 * Asks the coordinator at `address` for the cluster map, proving `secret`, from `sourceHost` when
 * given (lib/protocol/source-address.ts). Rejects with a PennError.
 */
export async function fetchClusterMap(address: { host: string; port: number }, secret: Buffer, timeoutMs = MAP_FETCH_TIMEOUT_MS, sourceHost?: string): Promise<KvClusterMap> {
  const client = new JsonLineClient(address.host, address.port, timeoutMs, 'the coordinator', secret, sourceHost);
  try {
    const reply = await client.request({ type: 'map' }) as CoordinatorReply;
    if (reply.type !== 'map') throw new PennError('UNAVAILABLE', `the coordinator answered a map request with ${reply.type}`);
    return toClusterMap(reply.map);
  } finally {
    client.close();
  }
}

/** The coordinator's map in the shape the router uses. */
export function toClusterMap(map: ClusterMap): KvClusterMap {
  const groupCount = Math.max(0, ...map.nodes.map((n) => n.group + 1), ...map.views.map((v) => v.group + 1));
  const groups: number[][] = Array.from({ length: groupCount }, () => []);
  for (const n of map.nodes) groups[n.group]!.push(n.id);
  const primaries: (number | null)[] = Array.from({ length: groupCount }, () => null);
  const secondaries: number[][] = Array.from({ length: groupCount }, () => []);
  for (const v of map.views) {
    primaries[v.group] = v.primary;
    secondaries[v.group] = [...v.secondaries];
  }
  return {
    nodes: map.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port })),
    groups,
    tablets: map.tablets.map((t) => ({ start: t.start, group: t.group })),
    primaries,
    secondaries,
  };
}
