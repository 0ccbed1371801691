/**
 * What can go wrong with a request to the API, in two kinds: the server answered with an error
 * (`ApiError`, carrying the API's code, reason and message), or no answer came at all
 * (`NetworkError`: the frontend is down or unreachable).
 */

/** An error reply of the API: `{"error": {"code", "message", "reason"?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No reply: the connection failed or was cut. */
export class NetworkError extends Error {
  constructor(message = 'The server did not answer.') {
    super(message);
    this.name = 'NetworkError';
  }
}

/** Builds an ApiError from a reply's status and body text (which may not be JSON). */
export function apiErrorFrom(status: number, bodyText: string): ApiError {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown; reason?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return new ApiError(status, e.code, e.message, typeof e.reason === 'string' ? e.reason : undefined);
    }
  } catch {
    // not JSON: fall through to a generic message
  }
  return new ApiError(status, status >= 500 ? 'UNAVAILABLE' : 'ERROR', genericMessage(status));
}

function genericMessage(status: number): string {
  if (status === 404) return 'Not found.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 413) return 'That is too large for the server.';
  if (status >= 500) return `The server had a problem (${status}). Please try again.`;
  return `The request failed (${status}).`;
}

/** A sentence for the user about any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof NetworkError) return sentence(err.message);
  if (err instanceof Error) return sentence(err.message);
  return 'Something went wrong.';
}

/** API messages are lower-case clauses ("the username is taken"): show them as sentences. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}
