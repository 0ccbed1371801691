/**
 * The coordinator's shell: a TCP server speaking the control protocol, a timer that feeds the
 * passing of time to the core, and the effects carried out in order (persist before announce;
 * a reply that reveals state waits until that state is on disk).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { KvNodeConfig } from '../../conf/config.js';
import type {
  ClusterMap, CoordinatorPush, CoordinatorReply, CoordinatorRequest, NodeFigures, NodeStateReport,
} from '../protocol/coordinator-wire.js';
import { isPennError } from '../protocol/errors.js';
import { encodeJsonLine, readJsonLines } from '../protocol/json-lines.js';
import { RefusalLog, type Logger } from '../protocol/log.js';
import { acceptPeer } from '../protocol/peer-auth.js';
import { CoordinatorCore, type CoordinatorEffect, type TabletRange } from './coordinator-core.js';
import { StateFile } from './state-file.js';

export interface CoordinatorOptions {
  host: string;
  port: number;
  nodes: KvNodeConfig[];
  groups: number[][];
  tablets: TabletRange[];
  heartbeatIntervalMs: number;
  failureTimeoutMs: number;
  dir: string;
  /** The cluster secret every connection must prove before it is heard (peer-auth.ts). */
  secret: Buffer;
  logger: Logger;
}

/**
 * A gap between ticks longer than this fraction of the failure timeout means the coordinator
 * itself was paused; ticks are due every quarter heartbeat, far more often.
 */
export const PAUSE_GAP_FRACTION = 0.5;

/** Connections served at once (nodes, frontends, admin tools); more are closed on accept. */
export const COORDINATOR_CONNECTIONS_MAX = 1024;

/** Bytes queued to one peer that does not read before it is cut off. */
const PEER_BACKLOG_BYTES_MAX = 8 * 1024 * 1024;

export class CoordinatorServer {
  private readonly core: CoordinatorCore;
  private readonly stateFile: StateFile;
  private readonly server: Server;
  private readonly nodeSockets = new Map<number, Socket>();
  /** Every accepted socket, authenticated or not: what COORDINATOR_CONNECTIONS_MAX bounds. */
  private readonly sockets = new Set<Socket>();
  private readonly figures = new Map<number, NodeFigures>();
  private readonly groupOf = new Map<number, number>();
  private effectChain: Promise<void> = Promise.resolve();
  private ticker: NodeJS.Timeout | null = null;

  constructor(private readonly options: CoordinatorOptions) {
    this.stateFile = new StateFile(options.dir);
    const saved = this.stateFile.load(options.groups.length);
    this.core = new CoordinatorCore(options.groups, saved ?? { tablets: options.tablets }, options.failureTimeoutMs, Date.now());
    options.groups.forEach((ids, g) => ids.forEach((id) => this.groupOf.set(id, g)));
    if (saved === null) this.run([{ kind: 'persist', state: this.core.persisted() }]);
    const refusals = new RefusalLog((m, f) => options.logger.warn(m, f));
    this.server = createServer((socket) => {
      if (this.sockets.size >= COORDINATOR_CONNECTIONS_MAX) {
        refusals.warn('connection refused: too many connections', { max: COORDINATOR_CONNECTIONS_MAX });
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      acceptPeer(socket, options.secret, (peer) => this.accept(peer),
        (reason) => refusals.warn('refused an unauthenticated peer', { remote: socket.remoteAddress, reason }));
    });
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    // A quarter of the heartbeat interval: a silent node is noticed soon after its timeout.
    const tickMs = Math.max(10, Math.floor(this.options.heartbeatIntervalMs / 4));
    let lastTickMs = Date.now();
    this.ticker = setInterval(() => {
      const nowMs = Date.now();
      // A tick far later than due: this process was not running (SIGSTOP, a stalled host).
      if (nowMs - lastTickMs > this.options.failureTimeoutMs * PAUSE_GAP_FRACTION) {
        this.options.logger.warn('the coordinator was paused; listening again before judging anyone silent', { pausedMs: nowMs - lastTickMs });
        this.core.resumedAfterPause(nowMs);
      }
      lastTickMs = nowMs;
      this.run(this.core.tick(nowMs));
    }, tickMs);
    const address = this.server.address() as { address: string; port: number };
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.effectChain;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    readJsonLines(socket, (m) => this.onRequest(socket, m as CoordinatorRequest),
      (err) => this.options.logger.warn('closing a connection that sent a bad line', { problem: err.message }));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (const [id, s] of this.nodeSockets) if (s === socket) this.nodeSockets.delete(id);
    });
  }

  private onRequest(socket: Socket, request: CoordinatorRequest): void {
    const now = Date.now();
    const reply = (message: CoordinatorReply): void => this.after(() => this.send(socket, message));
    try {
      switch (request.type) {
        case 'heartbeat': {
          const nodeId = request.report.nodeId;
          this.nodeSockets.set(nodeId, socket);
          if (request.figures !== undefined) this.figures.set(nodeId, request.figures);
          const effects = this.core.heartbeat(request.report, now);
          this.run(effects.filter((e) => !(e.kind === 'disable' && e.nodeId === nodeId)));
          const group = this.groupOf.get(nodeId)!;
          reply({
            id: request.id, type: 'view', view: this.core.views()[group]!, tablets: this.core.tabletMap(),
            disabled: effects.some((e) => e.kind === 'disable' && e.nodeId === nodeId),
          });
          return;
        }
        case 'join': {
          const effects = this.core.join(request.group, request.view, request.primary, request.nodeId, now);
          this.run(effects);
          reply(effects.length > 0 ? { id: request.id, type: 'ok' } : { id: request.id, type: 'refused', message: 'the view has changed' });
          return;
        }
        case 'split':
          this.run(this.core.registerSplit(request.group, request.row));
          reply({ id: request.id, type: 'ok' });
          return;
        case 'map':
          reply({ id: request.id, type: 'map', map: this.clusterMap() });
          return;
        case 'nodes':
          reply({ id: request.id, type: 'nodes', nodes: this.nodeStates(now) });
          return;
        case 'disable':
          this.run(this.core.disable(request.nodeId, now));
          reply({ id: request.id, type: 'ok' });
          return;
        case 'enable':
          this.run(this.core.enable(request.nodeId, now));
          reply({ id: request.id, type: 'ok' });
          return;
        default:
          reply({ id: (request as { id: number }).id, type: 'error', code: 'BAD_REQUEST', message: `unknown request type ${JSON.stringify((request as { type: unknown }).type)}` });
      }
    } catch (err) {
      const code = isPennError(err) ? err.code : 'BAD_REQUEST';
      reply({ id: request.id, type: 'error', code, message: (err as Error).message });
    }
  }

  private clusterMap(): ClusterMap {
    return {
      tablets: this.core.tabletMap(),
      views: this.core.views(),
      nodes: this.options.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, group: this.groupOf.get(n.id)! })),
    };
  }

  private nodeStates(now: number): NodeStateReport[] {
    const views = this.core.views();
    return this.core.nodeSummaries(now).map((s) => {
      const address = this.options.nodes.find((n) => n.id === s.id)!;
      return {
        id: s.id, host: address.host, port: address.port, group: s.group, state: s.state,
        view: views[s.group]!.view, lastSeq: s.lastSeq,
        heartbeatAgeMs: s.lastHeardMs === null ? null : now - s.lastHeardMs,
        figures: this.figures.get(s.id) ?? null,
      };
    });
  }

  /** Carries out effects in order, after every effect already queued. */
  private run(effects: CoordinatorEffect[]): void {
    for (const effect of effects) this.after(() => this.carryOut(effect));
  }

  private after(step: () => void | Promise<void>): void {
    this.effectChain = this.effectChain.then(step).catch((err: unknown) => {
      // The state could not be saved: announcing anything now could contradict what the next
      // start reads. Stop, and let the operator see why.
      this.options.logger.error('coordinator state could not be saved; stopping', { err });
      process.exit(1);
    });
  }

  private async carryOut(effect: CoordinatorEffect): Promise<void> {
    switch (effect.kind) {
      case 'persist':
        await this.stateFile.save(effect.state);
        return;
      case 'announce': {
        this.options.logger.info('new view', { ...effect.view });
        const push: CoordinatorPush = { type: 'view', view: effect.view, tablets: this.core.tabletMap() };
        for (const id of this.options.groups[effect.view.group]!) this.push(id, push);
        return;
      }
      case 'disable':
      case 'enable':
        this.options.logger.info(`node ${effect.kind}d`, { nodeId: effect.nodeId });
        this.push(effect.nodeId, { type: effect.kind });
        return;
    }
  }

  private push(nodeId: number, message: CoordinatorPush): void {
    const socket = this.nodeSockets.get(nodeId);
    if (socket !== undefined) this.send(socket, message);
  }

  private send(socket: Socket, message: CoordinatorReply | CoordinatorPush): void {
    if (socket.destroyed) return;
    if (socket.writableLength > PEER_BACKLOG_BYTES_MAX) {
      socket.destroy();
      return;
    }
    socket.write(encodeJsonLine(message));
  }
}
