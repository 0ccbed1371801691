/**
 * The one place where an error becomes an HTTP reply: the table from PennError codes to
 * statuses, and the JSON body a client sees. Clients read the message of a 4xx; a 5xx shows
 * only generic text and the request id that the log line carries.
 */
import { isPennError, type ErrorCode } from '../protocol/errors.js';
import type { Logger } from '../protocol/log.js';

/** HTTP status for every error code (RFC 9110 §15). Record makes a missing code a type error. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  // A quota is the user's to fix (delete files), so it is a 4xx whose message they can read.
  QUOTA_EXCEEDED: 403,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
  // A service timing out (the store did not answer) is not the client's fault: 504, not 408.
  // The server's own head timeout answers 408 directly (see connection.ts).
  TIMEOUT: 504,
});

/** Generic messages for 5xx replies, which never carry the error's own text. */
const GENERIC_MESSAGE_BY_STATUS: Readonly<Record<number, string>> = Object.freeze({
  500: 'Internal server error',
  501: 'Not implemented',
  503: 'Service unavailable',
  504: 'The service did not answer in time',
});

/** What an error turns into on the wire. */
export interface ErrorReply {
  status: number;
  code: ErrorCode;
  /** The JSON text `{"error":{"code":"...","message":"..."}}`. */
  body: string;
}

/** The status for any thrown value: the table for a PennError, 500 for anything else. */
export function statusForError(err: unknown): number {
  return isPennError(err) ? STATUS_BY_CODE[err.code] : 500;
}

/**
 * Turns any thrown value into a reply, and logs it once: 5xx with the request id (error level
 * for bugs, warn for a known unavailable dependency), 4xx at debug level.
 */
export function errorReply(err: unknown, requestId: string, logger: Logger): ErrorReply {
  const code: ErrorCode = isPennError(err) ? err.code : 'INTERNAL';
  const status = STATUS_BY_CODE[code];
  if (status >= 500) {
    const generic = GENERIC_MESSAGE_BY_STATUS[status] ?? 'Server error';
    const level = code === 'INTERNAL' ? 'error' : 'warn';
    logger[level]('request failed', { requestId, status, code, err });
    return { status, code, body: errorBody(code, `${generic} (request id ${requestId})`) };
  }
  const message = (err as Error).message;
  const reason = isPennError(err) ? err.reason : undefined;
  logger.debug('request refused', { requestId, status, code, message });
  return { status, code, body: errorBody(code, message, reason) };
}

/** The JSON body of an error reply; `reason` is the optional machine-readable refinement. */
export function errorBody(code: ErrorCode, message: string, reason?: string): string {
  const error: { code: ErrorCode; message: string; reason?: string } = { code, message };
  if (reason !== undefined) error.reason = reason;
  return JSON.stringify({ error });
}
