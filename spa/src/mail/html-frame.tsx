/**
 * A message's HTML in a sandboxed frame. The frontend serves it as a page of its own
 * (`/api/mail/messages/<id>/html`) with a policy of its own: no scripts, an opaque origin (so it
 * cannot touch the app or its cookies), no forms, and no remote loads (tracking pixels, remote
 * images, fonts, styles). Links open in a new tab.
 */
import { messageHtmlUrl } from '../api/mail-api';

/** `remoteImages`: the reader asked to see this message's remote images (never anything else remote). */
export function HtmlFrame({ messageId, title, remoteImages = false }: { messageId: string; title: string; remoteImages?: boolean }) {
  return (
    <iframe class="html-frame" title={title} sandbox="allow-popups allow-popups-to-escape-sandbox"
      src={messageHtmlUrl(messageId, remoteImages)} referrerpolicy="no-referrer" />
  );
}
