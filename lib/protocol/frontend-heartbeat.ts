/**
 * The heartbeat a frontend sends the dispatcher: one UDP datagram holding a JSON object
 * `{"id":1,"url":"http://127.0.0.1:8000","connections":3}`, sent to the dispatcher's host and
 * port (UDP, beside its HTTP listener on the same port number). A lost datagram costs
 * nothing: the next one follows a heartbeat interval later, and a frontend is dropped only
 * after several are missed.
 */
import { PennError } from './errors.js';

/** Largest heartbeat datagram accepted; a real one is under 200 bytes. */
export const HEARTBEAT_BYTES_MAX = 1024;
/** Longest frontend URL accepted in a heartbeat. */
export const HEARTBEAT_URL_CHARS_MAX = 512;

export interface FrontendHeartbeat {
  /** The frontend's id from the configuration. */
  id: number;
  /** Where browsers reach it, without a trailing slash: "http://host:port". */
  url: string;
  /** Client connections it has open right now. */
  connections: number;
}

export function encodeHeartbeat(heartbeat: FrontendHeartbeat): Buffer {
  return Buffer.from(JSON.stringify(heartbeat), 'utf8');
}

/** Parses and validates a datagram; throws PennError BAD_REQUEST naming what is wrong. */
export function decodeHeartbeat(datagram: Buffer): FrontendHeartbeat {
  if (datagram.length > HEARTBEAT_BYTES_MAX) {
    throw new PennError('BAD_REQUEST', `heartbeat of ${datagram.length} bytes exceeds ${HEARTBEAT_BYTES_MAX}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(datagram.toString('utf8'));
  } catch {
    throw new PennError('BAD_REQUEST', 'heartbeat is not JSON');
  }
  const o = value as Partial<Record<keyof FrontendHeartbeat, unknown>>;
  if (typeof value !== 'object' || value === null) throw new PennError('BAD_REQUEST', 'heartbeat is not an object');
  if (!Number.isSafeInteger(o.id) || (o.id as number) < 0) throw new PennError('BAD_REQUEST', 'heartbeat id must be a non-negative integer');
  if (!Number.isSafeInteger(o.connections) || (o.connections as number) < 0) {
    throw new PennError('BAD_REQUEST', 'heartbeat connections must be a non-negative integer');
  }
  if (typeof o.url !== 'string' || o.url.length > HEARTBEAT_URL_CHARS_MAX || !/^https?:\/\/[^\s/?#]+$/.test(o.url)) {
    throw new PennError('BAD_REQUEST', 'heartbeat url must be "http(s)://host:port" with no path');
  }
  return { id: o.id as number, url: o.url, connections: o.connections as number };
}
