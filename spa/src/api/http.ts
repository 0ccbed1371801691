/**
 * The one way the app talks to the REST API. Every state-changing request carries the header
 * the API requires against cross-site requests (`X-PennCloud-Request: 1`, besides a JSON
 * content type where there is a body). A reply with no answer at all starts the reconnection
 * through the dispatcher; a 401 tells the app the session has ended.
 */
import { createStore } from '../ui/store';
import { ApiError, apiErrorFrom, NetworkError } from './api-error';
import { reconnect, type ResumeAction } from './reconnect';

export const REQUEST_MARK = { 'X-PennCloud-Request': '1' } as const;

/** Raised (set to true) when the API says the session is gone; the app goes to sign-in. */
export const sessionEnded = createStore(false);

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** What to finish on another frontend if this one does not answer. */
  resume?: ResumeAction;
  /** Do not treat a 401 as the end of the session (sign-in itself answers 401). */
  quietUnauthenticated?: boolean;
}

/** Sends a request and returns the raw reply when it is a success (2xx). */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, REQUEST_MARK);
  let body = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  let reply: Response;
  try {
    reply = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: options.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    void reconnect(options.resume);
    throw new NetworkError('The server stopped answering. Reconnecting…');
  }
  if (reply.ok) return reply;
  const error = apiErrorFrom(reply.status, await reply.text().catch(() => ''));
  if (error.status === 401 && !options.quietUnauthenticated) sessionEnded.set(true);
  throw error;
}

/** Sends a request and parses the JSON reply (null for an empty one). */
export async function requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const reply = await send(method, path, options);
  const text = await reply.text();
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** True when `err` is an API error with this code (and reason, if given). */
export function isApiError(err: unknown, code: string, reason?: string): err is ApiError {
  return err instanceof ApiError && err.code === code && (reason === undefined || err.reason === reason);
}
