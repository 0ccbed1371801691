/**
 * The one error class of PennCloud and its list of codes. Every place an error leaves the
 * system (HTTP, the KV wire, SMTP, POP3) keeps its own table from these codes to replies.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'TOO_LARGE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TIMEOUT'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'BAD_REQUEST', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'CONFLICT',
  'PRECONDITION_FAILED', 'TOO_LARGE', 'URI_TOO_LONG', 'HEADERS_TOO_LARGE', 'RANGE_NOT_SATISFIABLE',
  'UNSUPPORTED_MEDIA_TYPE', 'TIMEOUT', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'UNAVAILABLE',
  'NOT_IMPLEMENTED', 'INTERNAL',
];

/**
 * An error meant for the caller. `code` says what kind; `message` is safe to show for client
 * errors (4xx-like); `reason` is an optional machine-readable refinement (e.g. `NAME_TAKEN`).
 */
export class PennError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts?: { cause?: unknown; reason?: string },
  ) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PennError';
    if (opts?.reason !== undefined) this.reason = opts.reason;
  }
  reason?: string;
}

/** True when `err` is a PennError, optionally of the given code. */
export function isPennError(err: unknown, code?: ErrorCode): err is PennError {
  return err instanceof PennError && (code === undefined || err.code === code);
}
