/**
 * The frontend's side of the dispatcher protocol: a UDP heartbeat every interval, carrying its
 * public URL and its open connection count (see lib/protocol/frontend-heartbeat.ts).
 */
import { createSocket } from 'node:dgram';
import { encodeHeartbeat, type FrontendHeartbeat } from '../protocol/frontend-heartbeat.js';
import type { Logger } from '../protocol/log.js';

export interface HeartbeatSenderOptions {
  dispatcherHost: string;
  dispatcherPort: number;
  intervalMs: number;
  /** Called at each beat for the current figures. */
  current: () => FrontendHeartbeat;
  logger: Logger;
}

/** Starts sending at once and then every interval; returns a function that stops it. */
export function startHeartbeats(options: HeartbeatSenderOptions): () => void {
  const socket = createSocket(options.dispatcherHost.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', (err) => options.logger.debug('heartbeat not sent', { err }));
  socket.unref();
  let failures = 0;
  const beat = (): void => {
    socket.send(encodeHeartbeat(options.current()), options.dispatcherPort, options.dispatcherHost, (err) => {
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
    socket.close();
  };
}
