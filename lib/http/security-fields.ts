/**
 * The protective header fields of PennCloud's web servers (docs/security.md, "Web hardening"):
 * a Content-Security-Policy that lets the app load only its own scripts, styles, images and
 * media (and the icon it asks of the dispatcher to find a live frontend), refuses
 * every framing of the app, and stops MIME sniffing and cross-origin referrers. Over HTTPS,
 * Strict-Transport-Security too. Handlers that serve other content (a user's file, a message's
 * HTML) set a policy of their own, which replaces these (see default-fields.ts).
 */

/** How long a browser keeps to HTTPS after seeing HSTS: a year, the usual preload minimum. */
export const HSTS_MAX_AGE_S = 365 * 24 * 60 * 60;

/** The fields every server sends, whatever it serves. */
function commonFields(secure: boolean): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    // Older browsers that know no frame-ancestors.
    ['X-Frame-Options', 'DENY'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'same-origin'],
  ];
  if (secure) fields.push(['Strict-Transport-Security', `max-age=${HSTS_MAX_AGE_S}`]);
  return fields;
}

/**
 * A frontend's fields. `imageOrigins` are the other origins the app loads images from: the
 * dispatcher's and the other frontends' (the icon the app asks of the dispatcher, to find a
 * live frontend, is redirected to one of them).
 */
export function appSecurityFields(options: { imageOrigins: readonly string[]; secure: boolean }): Array<[string, string]> {
  const images = ["'self'", ...options.imageOrigins].join(' ');
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${images}`,
    "media-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return [['Content-Security-Policy', policy], ...commonFields(options.secure)];
}

/** The dispatcher's fields: its pages (a redirect, "unavailable") load nothing at all. */
export function dispatcherSecurityFields(options: { secure: boolean }): Array<[string, string]> {
  const policy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  return [['Content-Security-Policy', policy], ...commonFields(options.secure)];
}

/**
 * The CSP source for a server at host:port. A server listening on every interface (0.0.0.0,
 * ::) is reached under whatever name the user typed, so any host on that port is allowed.
 */
export function originSource(scheme: 'http' | 'https', host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `${scheme}://*:${port}`;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
