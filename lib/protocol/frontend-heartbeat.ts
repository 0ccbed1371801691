/**
 * The heartbeat a frontend sends the dispatcher: one UDP datagram
 * `HB1 <mac> {"id":1,"url":"http://127.0.0.1:8000","connections":3,"sentAtMs":1765000000000}`,
 * sent to the dispatcher's host and port (UDP, beside its HTTP listener on the same port
 * number), where `<mac>` is HMAC-SHA256(cluster secret, "penncloud heartbeat\0" || the JSON
 * bytes), in hex. The dispatcher takes only datagrams whose mac matches, whose `sentAtMs` is
 * within HEARTBEAT_CLOCK_SKEW_MS_MAX of its clock and later than the last one it took from that
 * frontend (so a recorded datagram cannot be played again). A frontend that stops gracefully
 * sends a last beat with `"stopping":true`, and is dropped at once. A lost datagram costs nothing: the
 * next one follows a heartbeat interval later, and a frontend is dropped only after several are
 * missed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PennError } from './errors.js';

/** Largest heartbeat datagram accepted; a real one is under 200 bytes. */
export const HEARTBEAT_BYTES_MAX = 1024;
/** Longest frontend URL accepted in a heartbeat. */
export const HEARTBEAT_URL_CHARS_MAX = 512;
/** How far a heartbeat's send time may be from the dispatcher's clock (hosts' clocks differ a little). */
export const HEARTBEAT_CLOCK_SKEW_MS_MAX = 10_000;

const HEARTBEAT_PREFIX = 'HB1 ';
const HEARTBEAT_LABEL = Buffer.from('penncloud heartbeat\0', 'latin1');
const MAC_HEX_CHARS = 64;

export interface FrontendHeartbeat {
  /** The frontend's id from the configuration. */
  id: number;
  /** Where browsers reach it, without a trailing slash: "http://host:port". */
  url: string;
  /** Client connections it has open right now. */
  connections: number;
  /** When it was sent, by the frontend's clock (ms since the epoch); rises with every beat. */
  sentAtMs: number;
  /** Set on the last beat of a frontend that is stopping: send no one there any more. */
  stopping?: true;
}

function heartbeatMac(secret: Buffer, json: Buffer): Buffer {
  return createHmac('sha256', secret).update(HEARTBEAT_LABEL).update(json).digest();
}

/** The signed datagram of `heartbeat`. */
export function encodeHeartbeat(heartbeat: FrontendHeartbeat, secret: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(heartbeat), 'utf8');
  return Buffer.concat([Buffer.from(`${HEARTBEAT_PREFIX}${heartbeatMac(secret, json).toString('hex')} `, 'latin1'), json]);
}

/**
 * Checks a datagram's signature and send time, then parses and validates it; throws PennError
 * (UNAUTHENTICATED for a bad or missing signature or a stale time, BAD_REQUEST for a bad body)
 * naming what is wrong.
 */
export function decodeHeartbeat(datagram: Buffer, secret: Buffer, nowMs: number): FrontendHeartbeat {
  if (datagram.length > HEARTBEAT_BYTES_MAX) {
    throw new PennError('BAD_REQUEST', `heartbeat of ${datagram.length} bytes exceeds ${HEARTBEAT_BYTES_MAX}`);
  }
  const head = HEARTBEAT_PREFIX.length + MAC_HEX_CHARS + 1;
  const macHex = datagram.subarray(HEARTBEAT_PREFIX.length, head - 1).toString('latin1');
  if (datagram.length < head || datagram.subarray(0, HEARTBEAT_PREFIX.length).toString('latin1') !== HEARTBEAT_PREFIX
    || datagram[head - 1] !== 0x20 || !/^[0-9a-f]{64}$/.test(macHex)) {
    throw new PennError('UNAUTHENTICATED', 'heartbeat is not signed ("HB1 <mac> <json>")');
  }
  const json = datagram.subarray(head);
  if (!timingSafeEqual(Buffer.from(macHex, 'hex'), heartbeatMac(secret, json))) {
    throw new PennError('UNAUTHENTICATED', 'heartbeat signature does not match this cluster\'s secret');
  }
  const beat = parseHeartbeat(json);
  if (Math.abs(beat.sentAtMs - nowMs) > HEARTBEAT_CLOCK_SKEW_MS_MAX) {
    throw new PennError('UNAUTHENTICATED', `heartbeat sent ${beat.sentAtMs - nowMs} ms from now, past the ${HEARTBEAT_CLOCK_SKEW_MS_MAX} ms allowed`);
  }
  return beat;
}

function parseHeartbeat(json: Buffer): FrontendHeartbeat {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
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
  if (!Number.isSafeInteger(o.sentAtMs) || (o.sentAtMs as number) < 0) throw new PennError('BAD_REQUEST', 'heartbeat sentAtMs must be a non-negative integer');
  if (o.stopping !== undefined && o.stopping !== true) throw new PennError('BAD_REQUEST', 'heartbeat stopping must be true when present');
  const beat: FrontendHeartbeat = { id: o.id as number, url: o.url, connections: o.connections as number, sentAtMs: o.sentAtMs as number };
  if (o.stopping === true) beat.stopping = true;
  return beat;
}
