/** A page of a folder: sender (or recipients, in Sent), subject, time, attachment mark; unread in bold. */
import { displayName, type FolderId, type MessageSummary } from '../api/mail-api';
import { MAIL_FOLDERS } from '../api/mail-api';
import { formatFullTime, formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';

/** `folder` is the folder shown; search results carry their own (`m.folder`) and show it. */
export function MessageList({ folder, messages }: { folder: FolderId | null; messages: (MessageSummary & { folder?: FolderId })[] }) {
  return (
    <ul class="messages" aria-label="Messages">
      {messages.map((m) => {
        const where = m.folder ?? folder ?? 'inbox';
        const who = where === 'sent'
          ? `To: ${m.to.map(displayName).join(', ') || '(no recipient)'}`
          : m.from.map(displayName).join(', ') || '(unknown sender)';
        return (
          <li key={m.id} class={`message-row${m.seen ? '' : ' unread'}`} data-message-subject={m.subject}>
            <Link href={`/mail/${where}/${encodeURIComponent(m.id)}`} class="message-link">
              {!m.seen && <span class="visually-hidden">Unread. </span>}
              <span class="message-who">{who}</span>
              <span class="message-subject">{m.subject || '(no subject)'}</span>
              <span class="message-meta">
                {folder === null && <span class="message-folder">{MAIL_FOLDERS.find((f) => f.id === where)!.label}</span>}
                {m.hasAttachments && <span title="Has attachments"><Icon name="paperclip" /><span class="visually-hidden">Has attachments. </span></span>}
                <time dateTime={new Date(m.timeMs).toISOString()} title={formatFullTime(m.timeMs)}>{formatWhen(m.timeMs)}</time>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
