/**
 * Running one handler and turning how it ended into the response: a throw or rejection before
 * the head is sent becomes an error reply from the one table (error-status.ts), after it the
 * connection is cut (the framing cannot be completed); settling without an answer is a bug
 * answered with 500.
 */
import type { Logger } from '../protocol/log.js';
import { errorReply } from './error-status.js';
import type { ServerRequest } from './request.js';
import type { ServerResponse } from './response.js';
import type { RequestHandler } from './types.js';

/** The connection side of a handler call. */
export interface HandlerHost {
  readonly logger: Logger;
  /** False once the client is gone: nothing can be answered any more. */
  readonly isOpen: boolean;
  /** Cuts the connection. */
  cut(): void;
}

/** Calls `handler`; a synchronous handler costs no promise and no closure. */
export function callHandler(
  host: HandlerHost, handler: RequestHandler, request: ServerRequest, response: ServerResponse,
): void {
  let result: void | Promise<void>;
  try {
    result = handler(request, response);
  } catch (err) {
    handlerFailed(host, request, response, err);
    return;
  }
  if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
    (result as Promise<void>).then(
      () => handlerSettled(host, request, response),
      (err: unknown) => handlerFailed(host, request, response, err),
    );
  } else {
    handlerSettled(host, request, response);
  }
}

function handlerSettled(host: HandlerHost, request: ServerRequest, response: ServerResponse): void {
  if (response.finished || response.streaming || !host.isOpen) return;
  handlerFailed(host, request, response, new Error('handler returned without finishing the response'));
}

function handlerFailed(
  host: HandlerHost, request: ServerRequest, response: ServerResponse, err: unknown,
): void {
  const requestId = request.id;
  if (!host.isOpen) {
    host.logger.debug('handler failed after the client left', { requestId, err });
  } else if (!response.headersSent) {
    const reply = errorReply(err, requestId, host.logger);
    response.resetForError(reply.status);
    response.setHeader('Content-Type', 'application/json');
    response.end(reply.body);
  } else if (!response.finished) {
    host.logger.error('handler failed while sending its response', { requestId, err });
    host.cut();
  } else {
    host.logger.error('handler failed after its response', { requestId, err });
  }
}
