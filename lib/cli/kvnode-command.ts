/** `penncloud kvnode --id N`: runs one KV storage node. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { KvConfig } from '../../conf/config.js';
import { createLogger } from '../protocol/log.js';
import { KvServer } from '../kvserver/kv-server.js';
import { localSocketPath } from '../kvserver/local-socket.js';
import { KvStartError, openKvStore } from '../kvserver/recovery.js';
import { ReplicaNode } from '../kvserver/replica-node.js';
import { CoordinatorLink, recoveringHandler } from '../kvserver/coordinator-link.js';
import type { TabletRange } from '../kvserver/tablet.js';
import { intOption, UsageError, type Command } from './command.js';
import { announceReady, loadRoleContext, onShutdownSignal } from './role-context.js';
import { stopFatally } from '../kvserver/fatal-stop.js';

/** The tablet ranges of the group `nodeId` belongs to, from the configuration. */
export function tabletsOfNode(kv: KvConfig, nodeId: number): TabletRange[] {
  const group = kv.groups.findIndex((members) => members.includes(nodeId));
  if (group < 0) return [];
  const ranges: TabletRange[] = [];
  kv.tablets.forEach((t, i) => {
    if (t.group === group) ranges.push({ start: t.start, end: kv.tablets[i + 1]?.start ?? null });
  });
  return ranges;
}

export const kvnodeCommand: Command = {
  name: 'kvnode',
  summary: 'run a key-value storage node',
  usage: '--id N',
  options: [{ name: 'id', value: 'N', description: 'the node id (from kv.nodes in the configuration)' }],
  async run(args) {
    const id = intOption(args, 'id');
    const { config, dataDir, secret } = loadRoleContext(args);
    const node = config.kv.nodes.find((n) => n.id === id);
    if (node === undefined) throw new UsageError(`node ${id} is not in kv.nodes of the configuration`);
    const log = createLogger('kvnode', { node: id });
    const tablets = tabletsOfNode(config.kv, id);
    if (tablets.length === 0) throw new UsageError(`node ${id} is in no group that holds a tablet`);
    // The coordinator hears from the node from the start: "recovering" while it loads its data.
    const incarnation = randomBytes(8).toString('hex');
    const c = config.coordinator;
    const link = new CoordinatorLink({ host: c.host, port: c.port, sourceHost: node.host, heartbeatIntervalMs: c.heartbeatIntervalMs, secret, log: log.child({ part: 'coordinator' }) },
      recoveringHandler(id, incarnation));
    link.start();
    let store;
    try {
      store = await openKvStore({
        nodeId: id,
        dir: join(dataDir, `kv-${id}`),
        valueBytesMax: config.kv.valueBytesMax,
        memoryBudgetBytes: config.kv.memoryBudgetBytes,
        tabletSplitBytes: config.kv.tabletSplitBytes,
        checkpointLogBytes: config.kv.checkpointLogBytes,
        logValueBytesMin: config.kv.logValueBytesMin,
        log: log.child({ part: 'store' }),
        onFatal: (err) => stopFatally(log, 'storage failure; stopping so that no unsafe reply is sent', err),
      }, tablets);
    } catch (err) {
      link.stop();
      if (err instanceof KvStartError) {
        process.stderr.write(`penncloud kvnode: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const group = config.kv.groups.findIndex((members) => members.includes(id));
    const replica = new ReplicaNode(store, {
      nodeId: id,
      group,
      members: config.kv.groups[group]!.map((m) => {
        const member = config.kv.nodes.find((n) => n.id === m)!;
        return { ...member, localPath: localSocketPath(dataDir, member.id, member.host) };
      }),
      coordinator: config.coordinator,
      link,
      // A new value per start: it tells the coordinator this process is not the one in the view.
      incarnation,
      readFrom: config.kv.readFrom,
      secret,
      log: log.child({ part: 'replica' }),
    });
    const server = new KvServer(store, log.child({ part: 'server' }), secret, replica);
    const address = await server.listen(node.host, node.port, localSocketPath(dataDir, id, node.host));
    replica.start();
    onShutdownSignal(async () => {
      log.info('stopping');
      replica.stop();
      await server.stop();
    });
    announceReady(`kvnode-${id}`, address);
    log.info('serving', { address, tablets: tablets.length });
    return new Promise<number>(() => undefined);
  },
};
