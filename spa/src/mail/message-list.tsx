/**
 * A page of a folder: sender (or recipients, in Sent), subject and the start of the text, time,
 * attachment mark; unread in bold. Each row has a star and, when the list lets you select, a
 * checkbox.
 */
import { displayName, MAIL_FOLDERS, type FolderId, type MessageSummary } from '../api/mail-api';
import { formatFullTime, formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';

export interface MessageListProps {
  /** The folder shown; search results carry their own (`m.folder`) and show it. */
  folder: FolderId | null;
  messages: (MessageSummary & { folder?: FolderId })[];
  /** Ids of the selected messages, when the list can select. */
  selected?: ReadonlySet<string>;
  onSelect?: (id: string, on: boolean) => void;
  onStar?: (message: MessageSummary, starred: boolean) => void;
}

export function MessageList({ folder, messages, selected, onSelect, onStar }: MessageListProps) {
  return (
    <ul class="messages" aria-label="Messages">
      {messages.map((m) => {
        const where = m.folder ?? folder ?? 'inbox';
        const who = where === 'sent'
          ? `To: ${m.to.map(displayName).join(', ') || '(no recipient)'}`
          : m.from.map(displayName).join(', ') || '(unknown sender)';
        const subject = m.subject || '(no subject)';
        return (
          <li key={m.id} class={`message-row${m.seen ? '' : ' unread'}${selected?.has(m.id) ? ' selected' : ''}`} data-message-subject={m.subject}>
            {onSelect && (
              <input type="checkbox" class="message-check" aria-label={`Select “${subject}”`} checked={selected?.has(m.id) ?? false}
                onChange={(e) => onSelect(m.id, (e.currentTarget as HTMLInputElement).checked)} />
            )}
            {onStar && (
              <button type="button" class={`star-button${m.starred ? ' starred' : ''}`} aria-pressed={m.starred}
                aria-label={m.starred ? `Unstar “${subject}”` : `Star “${subject}”`} title={m.starred ? 'Starred' : 'Star'}
                onClick={() => onStar(m, !m.starred)}>
                <Icon name="star" />
              </button>
            )}
            <Link href={`/mail/${where}/${encodeURIComponent(m.id)}`} class="message-link">
              {!m.seen && <span class="visually-hidden">Unread. </span>}
              <span class="message-who">{who}</span>
              <span class="message-subject">
                {subject}
                {m.snippet !== '' && <span class="message-snippet"> — {m.snippet}</span>}
              </span>
              <span class="message-meta">
                {folder === null && <span class="message-folder">{MAIL_FOLDERS.find((f) => f.id === where)?.label ?? where}</span>}
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
