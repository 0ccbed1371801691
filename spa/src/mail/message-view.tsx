/**
 * One message: who, when, the text (or the HTML, sandboxed), its attachments, the delivery of
 * a sent message to outside addresses, and what to do with it.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import {
  attachmentUrl, conversationOf, deleteMessage, displayName, markMessage, rawMessageUrl, readMessage, restoreMessage,
  type Address, type Delivery, type FolderId, type FoundMessage, type Message,
} from '../api/mail-api';
import { formatBytes, formatFullTime } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link, navigate } from '../ui/router';
import { ErrorState, Loading } from '../ui/states';
import { toast } from '../ui/toasts';
import type { ComposeSeed } from './compose-dialog';
import { draftSeed, forwardSeed, replyAllSeed, replySeed } from './compose-seeds';
import { HtmlFrame } from './html-frame';

export interface MessageViewProps {
  folder: FolderId;
  id: string;
  self: string;
  onCompose: (seed: ComposeSeed) => void;
  onChanged: () => void;
}

export function MessageView({ folder, id, self, onCompose, onChanged }: MessageViewProps) {
  const [message, setMessage] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showHtml, setShowHtml] = useState(true);
  const [showImages, setShowImages] = useState(false);
  const [conversation, setConversation] = useState<FoundMessage[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    setConversation([]);
    conversationOf(id, abort.signal).then(setConversation, () => undefined);
    return () => abort.abort();
  }, [id]);

  useEffect(() => {
    const abort = new AbortController();
    setMessage(null);
    setError(null);
    readMessage(id, abort.signal).then((m) => { setMessage(m); onChanged(); }, (err: unknown) => {
      if (!abort.signal.aborted) setError(describeError(err));
    });
    return () => abort.abort();
  }, [id]);

  const back = `/mail/${folder}`;
  if (error !== null) return <ErrorState title="The message could not be opened" message={error} />;
  if (message === null) return <Loading label="Opening message…" />;

  const remove = async () => {
    try {
      await deleteMessage(message.id);
      toast(folder === 'trash' ? 'Message deleted for good.' : 'Message moved to Trash.');
      onChanged();
      navigate(back);
    } catch (err) {
      toast(`Could not delete: ${describeError(err)}`, 'error');
    }
  };
  const markUnread = async () => {
    try {
      await markMessage(message.id, { seen: false });
      toast('Marked unread.');
      onChanged();
      navigate(back);
    } catch (err) {
      toast(`Could not mark it unread: ${describeError(err)}`, 'error');
    }
  };
  const toggleStar = async () => {
    try {
      await markMessage(message.id, { starred: !message.starred });
      setMessage({ ...message, starred: !message.starred });
    } catch (err) {
      toast(`Could not change the star: ${describeError(err)}`, 'error');
    }
  };
  const restore = async () => {
    try {
      await restoreMessage(message.id);
      toast('Message restored.');
      onChanged();
      navigate(back);
    } catch (err) {
      toast(`Could not restore: ${describeError(err)}`, 'error');
    }
  };

  return (
    <article class="message" aria-labelledby="message-subject">
      <div class="message-toolbar" role="toolbar" aria-label="Message actions">
        <Link href={back} class="button button-quiet button-small"><Icon name="back" /> Back</Link>
        <span class="toolbar-gap" />
        {folder === 'drafts' && <button type="button" class="button button-small button-primary" onClick={() => onCompose(draftSeed(message))}><Icon name="compose" /> Edit draft</button>}
        <button type="button" class="button button-small" onClick={() => onCompose(replySeed(message))}><Icon name="reply" /> Reply</button>
        <button type="button" class="button button-small" onClick={() => onCompose(replyAllSeed(message, self))}><Icon name="replyAll" /> Reply all</button>
        <button type="button" class="button button-small" onClick={() => onCompose(forwardSeed(message))}><Icon name="forward" /> Forward</button>
        <button type="button" class={`button button-small${message.starred ? ' starred' : ''}`} aria-pressed={message.starred} onClick={toggleStar}>
          <Icon name="star" /> {message.starred ? 'Starred' : 'Star'}
        </button>
        <button type="button" class="button button-small" onClick={markUnread}>Mark unread</button>
        {folder === 'trash' && <button type="button" class="button button-small" onClick={restore}><Icon name="restore" /> Restore</button>}
        <button type="button" class="button button-small button-danger-quiet" onClick={remove}>
          <Icon name="trash" /> {folder === 'trash' ? 'Delete forever' : 'Delete'}
        </button>
      </div>
      <header class="message-head">
        <h2 id="message-subject">{message.subject || '(no subject)'}</h2>
        <dl class="message-fields">
          <dt>From</dt><dd><Addresses list={message.from} /></dd>
          <dt>To</dt><dd><Addresses list={message.to} /></dd>
          {message.cc.length > 0 && <><dt>Cc</dt><dd><Addresses list={message.cc} /></dd></>}
          <dt>Date</dt><dd>{message.timeMs > 0 ? formatFullTime(message.timeMs) : 'unknown'}</dd>
        </dl>
      </header>
      {message.senderWarning !== null && (
        <p class="message-warning" role="alert">
          <Icon name="warning" /> Be careful with this message: the {message.senderWarning}. It may not be from who it says.
        </p>
      )}
      {message.deliveries.length > 0 && <DeliveryList deliveries={message.deliveries} />}
      {conversation.length > 1 && (
        <nav class="conversation" aria-label="Conversation">
          <h3>{conversation.length} messages in this conversation</h3>
          <ol>
            {conversation.map((m) => (
              <li key={m.id} class={m.id === message.id ? 'current' : undefined}>
                {m.id === message.id
                  ? <span aria-current="true"><strong>{m.from.map(displayName).join(', ') || '(unknown sender)'}</strong> · this message</span>
                  : (
                    <Link href={`/mail/${m.folder}/${encodeURIComponent(m.id)}`}>
                      <strong>{m.from.map(displayName).join(', ') || '(unknown sender)'}</strong>
                      <span class="muted"> · {formatFullTime(m.timeMs)}{m.snippet !== '' ? ` · ${m.snippet}` : ''}</span>
                    </Link>
                  )}
              </li>
            ))}
          </ol>
        </nav>
      )}
      {message.html !== null && (message.text !== null || message.remoteImages) && (
        <div class="message-format">
          {message.text !== null && (
            <button type="button" class="link-button" onClick={() => setShowHtml(!showHtml)}>
              {showHtml ? 'Show plain text' : 'Show formatted'}
            </button>
          )}
          {message.remoteImages && !showImages && (showHtml || message.text === null) && (
            <>
              <span class="muted">{message.text !== null ? ' · ' : ''}Remote images are hidden (they tell the sender when you read).</span>
              <button type="button" class="link-button" onClick={() => setShowImages(true)}> Show remote images</button>
            </>
          )}
          {!message.remoteImages && <span class="muted"> · Remote content is blocked.</span>}
        </div>
      )}
      <div class="message-body">
        {message.html !== null && (showHtml || message.text === null)
          ? <HtmlFrame key={String(showImages)} messageId={message.id} title={`Message: ${message.subject}`} remoteImages={showImages} />
          : <div class="message-text">{message.text ?? ''}</div>}
      </div>
      {message.attachments.length > 0 && (
        <section class="message-attachments" aria-label="Attachments">
          <h3>{message.attachments.length === 1 ? '1 attachment' : `${message.attachments.length} attachments`}</h3>
          <ul class="chips">
            {message.attachments.map((a) => (
              <li key={a.index}>
                <a class="chip chip-link" href={attachmentUrl(message.id, a.index)} download={a.filename}>
                  <Icon name="download" /> {a.filename} <span class="muted">{formatBytes(a.sizeBytes)}</span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      <p class="message-raw"><a href={rawMessageUrl(message.id)} download={`${message.subject || 'message'}.eml`}>Download original</a></p>
    </article>
  );
}

function Addresses({ list }: { list: Address[] }) {
  if (list.length === 0) return <span class="muted">(none)</span>;
  return <>{list.map((a, i) => <span key={a.address + i} title={a.address}>{i > 0 && ', '}{displayName(a)}{a.name && <span class="muted"> &lt;{a.address}&gt;</span>}</span>)}</>;
}

const STATE_TEXT: Record<string, string> = {
  queued: 'Waiting to be sent', pending: 'Waiting to be sent', retrying: 'Retrying', deferred: 'Retrying',
  delivered: 'Delivered', sent: 'Delivered', bounced: 'Could not be delivered', failed: 'Could not be delivered',
};

function DeliveryList({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <section class="deliveries" aria-label="Delivery to outside addresses">
      <h3>Delivery</h3>
      <ul>
        {deliveries.map((d) => {
          const state = d.state.toLowerCase();
          const tone = state === 'delivered' || state === 'sent' ? 'ok' : state === 'bounced' || state === 'failed' ? 'bad' : 'wait';
          return (
            <li key={d.recipient} class={`delivery delivery-${tone}`}>
              <span class="delivery-recipient">{d.recipient}</span>
              <span class="delivery-state">{STATE_TEXT[state] ?? d.state}</span>
              {d.detail && d.detail.toLowerCase() !== (STATE_TEXT[state] ?? d.state).toLowerCase() && <span class="delivery-detail muted">{d.detail}</span>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
