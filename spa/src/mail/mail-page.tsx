/**
 * The webmail: folders with their unread counts beside a folder's messages, newest first, a
 * page at a time, refreshed by itself; a message opens in place of the list.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api/account-api';
import { describeError } from '../api/api-error';
import {
  deleteMessage, listMessages, mailMissing, markMessage, MAIL_FOLDERS, moveMessage, restoreMessage, unreadCounts, waitForMailChange,
  type FolderId, type MessagePage, type MessageSummary,
} from '../api/mail-api';
import { plural } from '../ui/format';
import { Icon, type IconName } from '../ui/icons';
import { Link } from '../ui/router';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { useStore } from '../ui/store';
import { moveFocus, useShortcut } from '../ui/shortcuts';
import { toast } from '../ui/toasts';
import { ComposeDialog, type ComposeSeed } from './compose-dialog';
import { newMessageSeed } from './compose-seeds';
import { pendingDraft } from './draft-store';
import { MessageList } from './message-list';
import { MailSearchBox, MailSearchResults } from './mail-search';
import { MessageView } from './message-view';
import { inboxUnread } from './unread-store';

/** How often the open folder and the unread counts refresh by themselves. */
export const MAIL_REFRESH_MS = 15_000;

const FOLDER_ICONS: Record<FolderId, IconName> = { inbox: 'inbox', drafts: 'compose', sent: 'sent', trash: 'trash' };

export function MailPage({ path, user }: { path: string; user: User }) {
  const [, , folderPart, idPart] = path.split('/');
  const folder = (MAIL_FOLDERS.some((f) => f.id === folderPart) ? folderPart : 'inbox') as FolderId;
  const messageId = idPart ? decodeURIComponent(idPart) : null;
  const [counts, setCounts] = useState<Record<FolderId, number | null> | null>(null);
  const [missing, setMissing] = useState(false);
  const [compose, setCompose] = useState<ComposeSeed | null>(null);
  const [refreshTick, setRefreshTick] = useState(0);
  const [search, setSearch] = useState<string | null>(null);
  const draft = useStore(pendingDraft);

  useEffect(() => {
    if (draft === null) return;
    setCompose({ title: 'New message', ...draft });
    pendingDraft.set(null);
  }, [draft]);

  const refreshCounts = useCallback(() => {
    unreadCounts().then(setCounts, (err: unknown) => { if (mailMissing(err)) setMissing(true); });
  }, []);
  useEffect(() => {
    refreshCounts();
    const timer = setInterval(refreshCounts, MAIL_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refreshCounts, refreshTick]);

  const changed = useCallback(() => {
    setRefreshTick((t) => t + 1);
  }, []);
  const onMissing = useCallback(() => setMissing(true), []);
  const closeCompose = useCallback(() => setCompose(null), []);
  useShortcut('c', useCallback(() => setCompose(newMessageSeed()), []));
  useShortcut('j', useCallback(() => moveFocus('.message-link', 1), []));
  useShortcut('k', useCallback(() => moveFocus('.message-link', -1), []));
  useEffect(() => {
    if (counts !== null) inboxUnread.set(counts.inbox ?? 0);
  }, [counts]);

  // New mail shows at once: one long poll stays open and every change it reports refreshes the
  // counts and the open folder (the MAIL_REFRESH_MS timers stay as the fallback).
  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      let since: string | null = null;
      while (!abort.signal.aborted) {
        try {
          const { stamp, changed: moved } = await waitForMailChange(since, abort.signal);
          since = stamp;
          if (moved) {
            refreshCounts();
            changed();
          }
        } catch {
          if (abort.signal.aborted) return;
          await new Promise((resolve) => setTimeout(resolve, MAIL_REFRESH_MS));
        }
      }
    })();
    return () => abort.abort();
  }, [refreshCounts, changed]);

  if (missing) {
    return (
      <main class="page" id="main">
        <ErrorState title="Mail is not available" message="This server does not offer the webmail yet. Your drive works as usual." />
      </main>
    );
  }

  return (
    <div class="mail">
      <aside class="mail-side" aria-label="Mail folders">
        <button type="button" class="button button-primary compose-button" onClick={() => setCompose(newMessageSeed())}>
          <Icon name="compose" /> Compose
        </button>
        <nav class="folders">
          {MAIL_FOLDERS.map((f) => {
            const unread = counts?.[f.id] ?? 0;
            return (
              <Link key={f.id} href={`/mail/${f.id}`} class={`folder-link${f.id === folder ? ' active' : ''}`} onClick={() => setSearch(null)}
                aria-current={f.id === folder ? 'page' : undefined}>
                <Icon name={FOLDER_ICONS[f.id]} />
                <span class="folder-name">{f.label}</span>
                {unread > 0 && <span class="count" aria-label={`${unread} unread`}>{unread}</span>}
              </Link>
            );
          })}
        </nav>
      </aside>
      <main class="mail-main" id="main">
        {messageId === null && <MailSearchBox initial={search ?? ''} onSearch={setSearch} />}
        {messageId !== null
          ? <MessageView folder={folder} id={messageId} self={user.username} onCompose={setCompose} onChanged={changed} />
          : search !== null
            ? <MailSearchResults query={search} onClear={() => setSearch(null)} />
            : <FolderView folder={folder} refreshTick={refreshTick} onMissing={onMissing} onChanged={changed} />}
      </main>
      {compose !== null && (
        <ComposeDialog seed={compose} onClose={closeCompose}
          onSent={() => { setCompose(null); toast('Message sent.'); changed(); }} />
      )}
    </div>
  );
}

function FolderView({ folder, refreshTick, onMissing, onChanged }: { folder: FolderId; refreshTick: number; onMissing: () => void; onChanged: () => void }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<MessagePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1]!;
  const key = useRef('');
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());

  const load = useCallback(async () => {
    const wanted = `${folder}|${cursor}`;
    key.current = wanted;
    try {
      const result = await listMessages(folder, cursor);
      if (key.current !== wanted) return;
      setPage(result);
      setError(null);
    } catch (err) {
      if (key.current !== wanted) return;
      if (mailMissing(err)) onMissing();
      else setError(describeError(err));
    }
  }, [folder, cursor, onMissing]);

  useEffect(() => { setCursors([null]); setSelected(new Set()); }, [folder]);
  useEffect(() => {
    setPage(null);
    void load();
  }, [load]);
  useEffect(() => {
    if (refreshTick > 0) void load();
    const timer = setInterval(() => void load(), MAIL_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, refreshTick]);

  const label = MAIL_FOLDERS.find((f) => f.id === folder)!.label;
  const chosen = (page?.messages ?? []).filter((m) => selected.has(m.id));
  const select = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const star = async (m: MessageSummary, starred: boolean) => {
    try {
      await markMessage(m.id, { starred });
    } catch (err) {
      toast(`Could not ${starred ? 'star' : 'unstar'} the message: ${describeError(err)}`, 'error');
    }
    await load();
  };
  /** Applies `step` to every selected message, then says how many it did. */
  const bulk = async (step: (id: string) => Promise<unknown>, done: (n: number) => string) => {
    let n = 0;
    for (const m of chosen) {
      try {
        await step(m.id);
        n++;
      } catch (err) {
        toast(`“${m.subject || '(no subject)'}”: ${describeError(err)}`, 'error');
      }
    }
    if (n > 0) toast(done(n));
    setSelected(new Set());
    onChanged();
    await load();
  };
  return (
    <>
      <header class="page-head mail-head">
        <h1>{label}</h1>
        <div class="toolbar">
          <button type="button" class="icon-button" aria-label="Refresh" title="Refresh" onClick={() => void load()}><Icon name="refresh" /></button>
          <button type="button" class="button button-small" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
          <button type="button" class="button button-small" disabled={page?.nextCursor == null} onClick={() => setCursors([...cursors, page!.nextCursor])}>Older</button>
        </div>
      </header>
      {error !== null && <ErrorState title="The folder could not be loaded" message={error} onRetry={() => void load()} />}
      {error === null && page === null && <Loading label="Loading messages…" />}
      {error === null && page !== null && page.messages.length === 0 && (
        <EmptyState icon={FOLDER_ICONS[folder]} title={folder === 'inbox' ? 'No mail yet' : `Nothing in ${label}`}>
          <p>{{
            inbox: 'New messages arrive here by themselves.',
            drafts: 'Messages you are writing are saved here as you type.',
            sent: 'Messages you send are kept here.',
            trash: 'Deleted messages wait here until you delete them for good.',
          }[folder]}</p>
        </EmptyState>
      )}
      {chosen.length > 0 && (
        <div class="mail-selection" role="toolbar" aria-label="Selected messages">
          <strong>{plural(chosen.length, 'message')} selected</strong>
          <button type="button" class="button button-small" onClick={() => void bulk((id) => markMessage(id, { seen: true }), (n) => `${plural(n, 'message')} marked read.`)}>Mark read</button>
          <button type="button" class="button button-small" onClick={() => void bulk((id) => markMessage(id, { seen: false }), (n) => `${plural(n, 'message')} marked unread.`)}>Mark unread</button>
          {folder === 'trash' && <button type="button" class="button button-small" onClick={() => void bulk(restoreMessage, (n) => `${plural(n, 'message')} restored.`)}>Restore</button>}
          <select class="select select-small" aria-label="Move to" value=""
            onChange={(e) => {
              const to = (e.currentTarget as HTMLSelectElement).value as FolderId;
              if (to) void bulk((id) => moveMessage(id, to), (n) => `${plural(n, 'message')} moved to ${MAIL_FOLDERS.find((f) => f.id === to)!.label}.`);
            }}>
            <option value="">Move to…</option>
            {MAIL_FOLDERS.filter((f) => f.id !== folder).map((f) => <option key={f.id} value={f.id}>{f.label}</option>)}
          </select>
          <button type="button" class="button button-small button-danger-quiet" onClick={() => void bulk(deleteMessage, (n) => folder === 'trash' ? `${plural(n, 'message')} deleted for good.` : `${plural(n, 'message')} moved to Trash.`)}>
            {folder === 'trash' ? 'Delete forever' : 'Delete'}
          </button>
          <button type="button" class="button button-small" onClick={() => setSelected(new Set())}>Clear selection</button>
        </div>
      )}
      {error === null && page !== null && page.messages.length > 0 && (
        <MessageList folder={folder} messages={page.messages} selected={selected} onSelect={select} onStar={(m, on) => void star(m, on)} />
      )}
    </>
  );
}
