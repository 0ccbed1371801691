/**
 * Cookies per RFC 6265: parsing the `Cookie` request header (§5.4) and writing `Set-Cookie`
 * (§4.1) with the attributes PennCloud uses.
 */

/** RFC 6265 §4.1.1 cookie-name is an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 §4.1.1 cookie-octet: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * Parses one or more `Cookie` header values into a map. Malformed pairs are skipped (a client
 * sending junk cookies still gets served); the first occurrence of a name wins (§5.4 orders
 * cookies with longer paths first).
 */
export function parseCookies(headerValues: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of headerValues) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!TOKEN.test(name) || !COOKIE_VALUE.test(value) || cookies.has(name)) continue;
      cookies.set(name, value);
    }
  }
  return cookies;
}

export interface CookieOptions {
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  path?: string;
  domain?: string;
  /** Lifetime in seconds; 0 deletes the cookie. */
  maxAgeSeconds?: number;
  expires?: Date;
}

/** Builds one `Set-Cookie` value. Throws on a name or value that would break the header. */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new Error(`invalid cookie name: ${JSON.stringify(name)}`);
  if (!COOKIE_VALUE.test(value)) throw new Error(`invalid cookie value for ${name}`);
  const parts = [`${name}=${value}`];
  if (options.maxAgeSeconds !== undefined) {
    if (!Number.isInteger(options.maxAgeSeconds)) throw new Error('Max-Age must be an integer');
    parts.push(`Max-Age=${options.maxAgeSeconds}`);
  }
  if (options.expires !== undefined) parts.push(`Expires=${options.expires.toUTCString()}`);
  if (options.domain !== undefined) {
    if (!/^[A-Za-z0-9.-]+$/.test(options.domain)) throw new Error('invalid cookie domain');
    parts.push(`Domain=${options.domain}`);
  }
  if (options.path !== undefined) {
    if (/[;\x00-\x1f\x7f]/.test(options.path)) throw new Error('invalid cookie path');
    parts.push(`Path=${options.path}`);
  }
  if (options.secure) parts.push('Secure');
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.sameSite !== undefined) {
    // RFC 6265bis: SameSite=None is only honoured together with Secure.
    if (options.sameSite === 'None' && !options.secure) throw new Error('SameSite=None requires Secure');
    parts.push(`SameSite=${options.sameSite}`);
  }
  return parts.join('; ');
}
