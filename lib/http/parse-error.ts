/**
 * A request the parser refuses. It always ends the connection: once framing is in doubt, no
 * later byte can be trusted to start a new request (RFC 9112 §11.2, request smuggling).
 */
import { PennError, type ErrorCode } from '../protocol/errors.js';
import { STATUS_BY_CODE } from './error-status.js';

export class ParseError extends PennError {
  /** The reply status: the code's status unless the RFC names a more precise one (417, 505). */
  readonly status: number;

  constructor(code: ErrorCode, message: string, status?: number) {
    super(code, message);
    this.name = 'ParseError';
    this.status = status ?? STATUS_BY_CODE[code];
  }
}

/** 400 for a malformed request. */
export function badRequest(message: string): ParseError {
  return new ParseError('BAD_REQUEST', message);
}
