/**
 * Every bound of the HTTP server in one place. The first group may be overridden from conf/
 * (HttpLimitsConfig); the second is fixed, because no deployment has a reason to change it.
 */
import type { HttpLimitsConfig } from '../../conf/config.js';

const KIB = 1024;
const GIB = 1024 * 1024 * 1024;

/**
 * Longest request line (method, target, version) without its CRLF. RFC 9112 §3 recommends
 * supporting at least 8000 octets; past it the client gets 414.
 */
export const REQUEST_LINE_BYTES_MAX = 8 * KIB;
/**
 * Largest request head (request line and every field line) we buffer; past it the client gets
 * 431 (RFC 6585 §5). 32 KiB fits any browser's cookies and stays small per connection.
 */
export const HEAD_BYTES_MAX = 32 * KIB;
/** Most field lines in one head (or one chunked trailer section); past it, 431. */
export const HEADERS_COUNT_MAX = 100;
/**
 * Largest request body. The drive takes uploads of a few GiB, streamed and never held in
 * memory, so this is a guard against endless bodies rather than a memory bound; past it, 413.
 */
export const BODY_BYTES_MAX = 4 * GIB;
/**
 * Time from the start of a request head (or from accepting the connection) to its last byte.
 * Not extended by arriving bytes, so a client trickling one byte a second is cut off (408).
 * It also bounds a stall inside a body the handler is waiting for: that many ms without a
 * byte, and the reader gets TIMEOUT and the client 408.
 */
export const HEAD_TIMEOUT_MS = 10_000;
/** How long a keep-alive connection may wait for its next request before it is closed. */
export const IDLE_TIMEOUT_MS = 5_000;
/** Requests served on one connection before it is closed, so load spreads over time. */
export const REQUESTS_PER_CONNECTION_MAX = 1_000;
/** On close(), how long in-flight requests may take before their connections are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;
/**
 * The window over which a body's arrival rate is measured. A client sending a byte just often
 * enough to dodge the stall timeout would hold a connection (and a handler) for as long as it
 * likes; measured over this window, it is cut (408).
 */
export const BODY_RATE_WINDOW_MS = 5_000;
/**
 * Fewest body bytes a client must deliver in each window while the server is waiting for them
 * (reading not paused by backpressure, no 100 Continue owed). 1 KiB per 5 s is 200 bytes/s,
 * slower than any real link, far faster than a trickle of a byte every second or two.
 */
export const BODY_BYTES_PER_WINDOW_MIN = 1 * KIB;
/**
 * Open connections from one client address. A browser opens 6 per origin; an office behind one
 * NAT, or a proxy in front of the frontends, carries many users on one address, so the cap is
 * set for a few dozen of them. What it stops is one host holding open every descriptor the
 * process has (a slow-body flood of thousands). Past it, the new connection gets 503 and is
 * closed.
 */
export const CONNECTIONS_PER_CLIENT_MAX = 128;

/**
 * Bytes of an unread request body the server reads and drops after the response, to keep the
 * connection alive. A larger remainder is not worth reading: the connection is closed instead.
 */
export const UNREAD_BODY_DRAIN_BYTES_MAX = 64 * KIB;
/** Requests parsed ahead of the one being answered (pipelining); past it reading pauses. */
export const PIPELINE_DEPTH_MAX = 16;
/** Longest chunk extension (RFC 9112 §7.1.1); nobody needs long ones, so past it, 400. */
export const CHUNK_EXTENSION_BYTES_MAX = 1 * KIB;
/** Hex digits of a chunk size: 16 is 2^64, far past any body we accept; more is 400. */
export const CHUNK_SIZE_DIGITS_MAX = 16;
/**
 * After a final response on a connection we close, how long we keep reading (and dropping)
 * what the client still sends, so a TCP reset does not destroy the response before it is read.
 */
export const LINGER_MS = 2_000;
/** Bytes dropped while lingering before the socket is destroyed anyway. */
export const LINGER_BYTES_MAX = 1024 * KIB;
/** Buffered bytes of a request body stream before the socket is paused (backpressure). */
export const BODY_STREAM_HIGH_WATER_BYTES = 64 * KIB;
/** Bounds of the one timer sweep per server that enforces every timeout above. */
export const SWEEP_INTERVAL_MIN_MS = 5;
export const SWEEP_INTERVAL_MAX_MS = 1_000;

/** The limits one HttpServer enforces. */
export interface HttpLimits {
  requestLineBytesMax: number;
  headBytesMax: number;
  headersCountMax: number;
  bodyBytesMax: number;
  headTimeoutMs: number;
  idleTimeoutMs: number;
  requestsPerConnectionMax: number;
  shutdownGraceMs: number;
  bodyRateWindowMs: number;
  bodyBytesPerWindowMin: number;
  connectionsPerClientMax: number;
}

export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  requestLineBytesMax: REQUEST_LINE_BYTES_MAX,
  headBytesMax: HEAD_BYTES_MAX,
  headersCountMax: HEADERS_COUNT_MAX,
  bodyBytesMax: BODY_BYTES_MAX,
  headTimeoutMs: HEAD_TIMEOUT_MS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  requestsPerConnectionMax: REQUESTS_PER_CONNECTION_MAX,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  bodyRateWindowMs: BODY_RATE_WINDOW_MS,
  bodyBytesPerWindowMin: BODY_BYTES_PER_WINDOW_MIN,
  connectionsPerClientMax: CONNECTIONS_PER_CLIENT_MAX,
});

/**
 * The defaults with the given overrides applied. Throws RangeError when a value is not a
 * positive safe integer or the request line may not fit in the head.
 */
export function resolveLimits(overrides: HttpLimitsConfig = {}): HttpLimits {
  const limits: HttpLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof HttpLimits>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`http limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  if (limits.requestLineBytesMax > limits.headBytesMax) {
    // A smaller head limit alone shrinks the request line with it; both given must agree.
    if (overrides.requestLineBytesMax !== undefined) {
      throw new RangeError('http limit requestLineBytesMax must not exceed headBytesMax');
    }
    limits.requestLineBytesMax = limits.headBytesMax;
  }
  return limits;
}

/** The period of the timer sweep: a quarter of the shortest timeout, within fixed bounds. */
export function sweepIntervalMs(limits: HttpLimits): number {
  const shortest = Math.min(limits.headTimeoutMs, limits.idleTimeoutMs, limits.bodyRateWindowMs);
  return Math.max(SWEEP_INTERVAL_MIN_MS, Math.min(SWEEP_INTERVAL_MAX_MS, Math.floor(shortest / 4)));
}
