/**
 * Searching mail: the box above the message list (`/` focuses it) and the results, newest
 * first, each with the folder it is in; a folder choice narrows them, and `from:`, `to:`,
 * `subject:` narrow a word.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { MAIL_FOLDERS, searchMail, type FolderId, type FoundMessage } from '../api/mail-api';
import { SearchBox } from '../ui/search-box';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { MessageList } from './message-list';

/** The mail search box; `onSearch` gets the words (never empty). */
export function MailSearchBox({ initial, onSearch }: { initial: string; onSearch: (query: string) => void }) {
  return <SearchBox label="Search mail" placeholder="Search mail (from:ann subject:lunch …)" initial={initial} onSearch={onSearch} />;
}

/** The results of `query`, a page at a time. */
export function MailSearchResults({ query, onClear }: { query: string; onClear: () => void }) {
  const [folder, setFolder] = useState<FolderId | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ messages: FoundMessage[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1]!;

  useEffect(() => { setCursors([null]); }, [query, folder]);
  useEffect(() => {
    let live = true;
    setPage(null);
    setError(null);
    searchMail(query, folder, cursor).then((p) => { if (live) setPage(p); }, (err: unknown) => { if (live) setError(describeError(err)); });
    return () => { live = false; };
  }, [query, folder, cursor]);

  return (
    <>
      <header class="page-head mail-head">
        <h1>Results for “{query}”</h1>
        <div class="toolbar">
          <select class="select select-small" aria-label="In folder" value={folder ?? 'all'}
            onChange={(e) => { const v = (e.currentTarget as HTMLSelectElement).value; setFolder(v === 'all' ? null : v as FolderId); }}>
            <option value="all">All folders</option>
            {MAIL_FOLDERS.map((f) => <option key={f.id} value={f.id}>{f.label}</option>)}
          </select>
          <button type="button" class="button button-small" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
          <button type="button" class="button button-small" disabled={page?.nextCursor == null} onClick={() => setCursors([...cursors, page!.nextCursor])}>Older</button>
          <button type="button" class="button button-small" onClick={onClear}>Clear search</button>
        </div>
      </header>
      {error !== null && <ErrorState title="The search did not work" message={error} />}
      {error === null && page === null && <Loading label="Searching…" />}
      {page !== null && page.messages.length === 0 && (
        <EmptyState icon="search" title="No messages match">
          <p>Words match the start of words in the sender, recipients and subject, and whole words of the text.</p>
        </EmptyState>
      )}
      {page !== null && page.messages.length > 0 && <MessageList folder={null} messages={page.messages} />}
    </>
  );
}
