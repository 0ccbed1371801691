/**
 * The control port of `penncloud up` (see lib/protocol/supervisor-wire.ts): lists the processes
 * and stops or starts one for the admin console. Listens on loopback-configured
 * `supervisor.host:port` only; it is an operator's interface, not a public one.
 */
import { createServer, type Server } from 'node:net';
import { encodeJsonLine, readJsonLines } from '../protocol/json-lines.js';
import type { SupervisorReply, SupervisorRequest } from '../protocol/supervisor-wire.js';
import type { Supervisor } from './supervisor.js';

export function startSupervisorControl(supervisor: Supervisor, host: string, port: number): Promise<Server> {
  const server = createServer((socket) => {
    readJsonLines(socket, (m) => {
      void answer(supervisor, m as SupervisorRequest).then((reply) => {
        if (!socket.destroyed) socket.write(encodeJsonLine(reply));
      });
    });
    socket.on('error', () => socket.destroy());
  });
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
      default:
        return { id: (request as { id: number }).id, type: 'error', message: 'unknown request type' };
    }
  } catch (err) {
    return { id: request.id, type: 'error', message: (err as Error).message };
  }
}
