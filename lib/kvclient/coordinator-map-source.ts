/**
 * Where a client learns the cluster map: the coordinator's `map` request (tablets, the view of
 * every group with its primary, node addresses; docs/coordinator-protocol.md). One short
 * connection per ask: clients ask only when a node answers "wrong tablet" or "not primary" or
 * cannot be reached, so there is nothing to keep open.
 */
import { connect } from 'node:net';
import type { ClusterMap, CoordinatorReply } from '../protocol/coordinator-wire.js';
import { PennError } from '../protocol/errors.js';
import { encodeJsonLine, JsonLineDecoder } from '../protocol/json-lines.js';
import type { KvClusterMap } from './tablet-router.js';

/** How long one ask for the map may take before the client keeps its cached map. */
export const MAP_FETCH_TIMEOUT_MS = 2_000;

/** Asks the coordinator at `address` for the cluster map. Rejects with UNAVAILABLE. */
export function fetchClusterMap(address: { host: string; port: number }, timeoutMs = MAP_FETCH_TIMEOUT_MS): Promise<KvClusterMap> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    const decoder = new JsonLineDecoder();
    const fail = (why: string): void => {
      socket.destroy();
      reject(new PennError('UNAVAILABLE', `cannot get the cluster map from the coordinator at ${address.host}:${address.port}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => socket.write(encodeJsonLine({ id: 1, type: 'map' })));
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        clearTimeout(timer);
        fail((err as Error).message);
        return;
      }
      for (const m of messages as CoordinatorReply[]) {
        if (m.id !== 1) continue;
        clearTimeout(timer);
        socket.end();
        if (m.type === 'map') resolve(toClusterMap(m.map));
        else fail(`unexpected reply ${m.type}`);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new PennError('UNAVAILABLE', 'the coordinator closed the connection'));
    });
  });
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
