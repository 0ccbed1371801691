/**
 * A message's HTML in a sandboxed frame: no scripts, no same-origin access (so it cannot touch
 * the app or its cookies), no forms, and a Content-Security-Policy in the document itself that
 * blocks every remote load (tracking pixels, remote images, fonts, styles). Links open in a new
 * tab.
 */
const FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";

export function HtmlFrame({ html, title }: { html: string; title: string }) {
  const doc = `<!doctype html><html><head><meta charset="utf-8">`
    + `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">`
    + `<base target="_blank"><style>body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:4px;color:#1b1f27;overflow-wrap:anywhere}img{max-width:100%}</style>`
    + `</head><body>${html}</body></html>`;
  return (
    <iframe class="html-frame" title={title} sandbox="allow-popups allow-popups-to-escape-sandbox"
      srcdoc={doc} referrerpolicy="no-referrer" />
  );
}
