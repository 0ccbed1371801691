/**
 * The pieces of a response head that do not depend on the request: status lines, the Date
 * field (formatted once per second), and the checks that keep header fields from breaking the
 * framing (no CR, LF or NUL: response splitting).
 */

/** Reason phrases (RFC 9110 §15); the phrase is informational only (RFC 9112 §4). */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information',
  204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
  304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
  417: 'Expectation Failed', 422: 'Unprocessable Content', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};

const STATUS_LINES: string[] = [];

/** "HTTP/1.1 200 OK\r\n" for a status in 200..599, built once per status. */
export function statusLine(status: number): string {
  let line = STATUS_LINES[status];
  if (line === undefined) {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`invalid final response status ${status}`);
    }
    line = `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? 'Status'}\r\n`;
    STATUS_LINES[status] = line;
  }
  return line;
}

/** RFC 9110 §15.2: interim response sent before reading a body the client held back. */
export const CONTINUE_RESPONSE = 'HTTP/1.1 100 Continue\r\n\r\n';

let dateSecond = -1;
let dateLine = '';

/** "Date: <IMF-fixdate>\r\n" (RFC 9110 §6.6.1), formatted at most once per second. */
export function dateHeaderLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** Throws unless `name` is a token (RFC 9110 §5.1). */
export function checkHeaderName(name: string): void {
  if (name.length === 0) throw new TypeError('empty header name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3a || c === 0x22 || c === 0x28 || c === 0x29
      || c === 0x2c || c === 0x2f || c === 0x3b || c === 0x3c || c === 0x3d || c === 0x3e
      || c === 0x3f || c === 0x40 || c === 0x5b || c === 0x5c || c === 0x5d || c === 0x7b
      || c === 0x7d) {
      throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    }
  }
}

/**
 * Throws unless `value` is field-content a latin1 head can carry (RFC 9110 §5.5): no CR, LF,
 * NUL or other controls but HTAB, nothing past U+00FF. Returns true when it is all ASCII.
 */
export function checkHeaderValue(name: string, value: string): boolean {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
      throw new TypeError(`invalid character in header ${name}`);
    }
    if (c > 0x7f) ascii = false;
  }
  return ascii;
}
