/**
 * A message's HTML as a page of its own, for the app's sandboxed frame. It is the sender's
 * markup, so its policy is not the app's: no scripts, an opaque origin (CSP `sandbox`, so it
 * cannot touch the app or its cookies even when opened by itself), no remote loads (tracking
 * pixels, remote images, fonts, styles), inline styles allowed, framed only by the app.
 */

/** The page's Content-Security-Policy; links may open in a new tab (allow-popups). */
export const MAIL_HTML_POLICY = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
  + "style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * The same with remote images allowed, when the reader asks for them (`?images=1`): images
 * only, still no scripts, styles, fonts or frames from anywhere, and no referrer sent.
 */
export const MAIL_HTML_POLICY_IMAGES = MAIL_HTML_POLICY.replace("img-src data:;", 'img-src data: https: http:;');

/** The fields that replace the app's own for this page. */
export function mailHtmlFields(remoteImages: boolean): ReadonlyArray<readonly [string, string]> {
  return [
    ['Content-Security-Policy', remoteImages ? MAIL_HTML_POLICY_IMAGES : MAIL_HTML_POLICY],
    ['X-Frame-Options', 'SAMEORIGIN'],
    ['Referrer-Policy', 'no-referrer'],
  ];
}

/** True when the HTML loads an image from the network (what "show remote images" would show). */
export function hasRemoteImages(html: string): boolean {
  return /<img\b[^>]*\bsrc\s*=\s*["']?\s*(https?:)?\/\//i.test(html) || /url\(\s*["']?\s*(https?:)?\/\//i.test(html);
}

/** The page around the message's HTML: a charset, links to a new tab, readable defaults. */
export function mailHtmlPage(html: string): string {
  return '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
    + '<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:4px;color:#1b1f27;overflow-wrap:anywhere}img{max-width:100%}</style>'
    + `</head><body>${html}</body></html>`;
}
