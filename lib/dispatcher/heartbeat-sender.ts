/**
 * The frontend's side of the dispatcher protocol: a UDP heartbeat every interval, carrying its
 * public URL and its open connection count, signed with the cluster secret (see
 * lib/protocol/frontend-heartbeat.ts).
 */
import { createSocket } from 'node:dgram';
import { encodeHeartbeat, type FrontendHeartbeat } from '../protocol/frontend-heartbeat.js';
import type { Logger } from '../protocol/log.js';
import { sourceAddressFor } from '../protocol/source-address.js';

export interface HeartbeatSenderOptions {
  dispatcherHost: string;
  dispatcherPort: number;
  /** The frontend's configured host: beats leave from it (lib/protocol/source-address.ts). */
  sourceHost?: string;
  intervalMs: number;
  /** Called at each beat for the current figures. */
  current: () => Omit<FrontendHeartbeat, 'sentAtMs'>;
  /** The cluster secret each datagram is signed with. */
  secret: Buffer;
  logger: Logger;
}

/**
 * Starts sending at once and then every interval; returns a function that stops it, after one
 * last beat that says the frontend is stopping (so the dispatcher sends no one there meanwhile).
 */
export function startHeartbeats(options: HeartbeatSenderOptions): () => void {
  const socket = createSocket(options.dispatcherHost.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', (err) => options.logger.debug('heartbeat not sent', { err }));
  socket.unref();
  const source = sourceAddressFor(options.sourceHost, options.dispatcherHost);
  // Datagrams sent before the bind completes wait for it (dgram queues them).
  if (source !== undefined) socket.bind({ address: source, port: 0 });
  let failures = 0;
  // Strictly rising, even within one millisecond or when the clock steps back: the dispatcher
  // drops a beat no later than the last it took.
  let lastSentAtMs = 0;
  const datagram = (stopping: boolean): Buffer => {
    lastSentAtMs = Math.max(Date.now(), lastSentAtMs + 1);
    return encodeHeartbeat({ ...options.current(), sentAtMs: lastSentAtMs, ...(stopping ? { stopping: true as const } : {}) }, options.secret);
  };
  const beat = (): void => {
    socket.send(datagram(false), options.dispatcherPort, options.dispatcherHost, (err) => {
      // UDP to a host that is up but has no dispatcher yet is not an error worth more than debug.
      if (err && ++failures === 1) options.logger.debug('heartbeat send failed', { err });
      if (!err) failures = 0;
    });
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    socket.send(datagram(true), options.dispatcherPort, options.dispatcherHost, () => socket.close());
  };
}
