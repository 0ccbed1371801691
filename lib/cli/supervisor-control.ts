/**
 * The control port of `penncloud up` (see lib/protocol/supervisor-wire.ts): lists the processes
 * and stops or starts one for the admin console. Listens on loopback-configured
 * `supervisor.host:port` only; it is an operator's interface, not a public one, and a peer is
 * heard only once it has proven the cluster secret (lib/protocol/peer-auth.ts).
 */
import { createServer, type Server } from 'node:net';
import { encodeJsonLine, readJsonLines } from '../protocol/json-lines.js';
import { RefusalLog } from '../protocol/log.js';
import { acceptPeer } from '../protocol/peer-auth.js';
import type { SupervisorReply, SupervisorRequest } from '../protocol/supervisor-wire.js';
import type { Supervisor } from './supervisor.js';

/** Control connections at once (the admin console of each frontend, an operator's tool). */
export const SUPERVISOR_CONNECTIONS_MAX = 64;

export function startSupervisorControl(supervisor: Supervisor, host: string, port: number, secret: Buffer): Promise<Server> {
  const refusals = new RefusalLog((message, fields) => process.stderr.write(`[up] control port: ${message} ${JSON.stringify(fields ?? {})}\n`));
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    acceptPeer(socket, secret, () => {
      readJsonLines(socket, (m) => {
        void answer(supervisor, m as SupervisorRequest).then((reply) => {
          if (!socket.destroyed) socket.write(encodeJsonLine(reply));
        });
      });
    }, (reason) => refusals.warn('refused an unauthenticated peer', { remote: socket.remoteAddress ?? '?', reason }));
  });
  server.maxConnections = SUPERVISOR_CONNECTIONS_MAX;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function answer(supervisor: Supervisor, request: SupervisorRequest): Promise<SupervisorReply> {
  try {
    switch (request.type) {
      case 'processes':
        return { id: request.id, type: 'processes', processes: supervisor.processes() };
      case 'stop':
        await supervisor.stopByAdmin(request.name);
        return { id: request.id, type: 'ok' };
      case 'start':
        await supervisor.startByAdmin(request.name);
        return { id: request.id, type: 'ok' };
      case 'restart':
        await supervisor.restartByAdmin(request.name);
        return { id: request.id, type: 'ok' };
      default:
        return { id: (request as { id: number }).id, type: 'error', message: 'unknown request type' };
    }
  } catch (err) {
    return { id: request.id, type: 'error', message: (err as Error).message };
  }
}
