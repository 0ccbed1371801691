/** Drive search results: files and folders anywhere whose names have the words, with where each is. */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { searchDrive, type DriveEntry } from '../api/drive-api';
import { parentPath } from '../api/drive-path';
import { formatBytes, formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { driveHref } from './drive-route';
import { fileKind, kindIcon } from './file-kind';

/** Types a search can be narrowed to, as the API names them. */
const TYPES: { value: string; label: string }[] = [
  { value: '', label: 'Any type' }, { value: 'folder', label: 'Folders' }, { value: 'image', label: 'Images' },
  { value: 'video', label: 'Videos' }, { value: 'audio', label: 'Audio' }, { value: 'pdf', label: 'PDFs' }, { value: 'text', label: 'Text' },
];

export function DriveSearchResults({ query, onClear, onPreview }: { query: string; onClear: () => void; onPreview: (entry: DriveEntry) => void }) {
  const [type, setType] = useState('');
  const [entries, setEntries] = useState<DriveEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setEntries(null);
    setError(null);
    searchDrive(query, type, null).then((p) => { if (live) { setEntries(p.entries); setCursor(p.nextCursor); } },
      (err: unknown) => { if (live) setError(describeError(err)); });
    return () => { live = false; };
  }, [query, type]);

  const more = async () => {
    try {
      const p = await searchDrive(query, type, cursor);
      setEntries([...(entries ?? []), ...p.entries]);
      setCursor(p.nextCursor);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section aria-label="Search results">
      <div class="toolbar search-toolbar">
        <h2 class="search-title">Results for “{query}”</h2>
        <select class="select select-small" aria-label="Type" value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}>
          {TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
        <button type="button" class="button button-small" onClick={onClear}>Clear search</button>
      </div>
      {error !== null && <ErrorState title="The search did not work" message={error} />}
      {error === null && entries === null && <Loading label="Searching…" />}
      {entries !== null && entries.length === 0 && cursor === null && (
        <EmptyState icon="search" title="Nothing matches">
          <p>Words match the start of words in names, anywhere in your drive (not in the trash).</p>
        </EmptyState>
      )}
      {entries !== null && entries.length > 0 && (
        <table class="files search-results">
          <thead><tr><th class="col-name" scope="col">Name</th><th scope="col">Folder</th><th class="col-size" scope="col">Size</th><th class="col-modified" scope="col">Modified</th></tr></thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-entry-name={entry.name}>
                <td class="col-name">
                  {entry.type === 'folder'
                    ? <Link class="entry-name" href={driveHref(entry.path)}><Icon name="folder" /><span class="break">{entry.name}</span></Link>
                    : <button type="button" class="entry-name" onClick={() => onPreview(entry)}><Icon name={kindIcon(fileKind(entry.name))} /><span class="break">{entry.name}</span></button>}
                </td>
                <td><Link href={driveHref(parentPath(entry.path))}>{parentPath(entry.path) === '/' ? 'My Drive' : parentPath(entry.path)}</Link></td>
                <td class="col-size">{entry.type === 'folder' ? '—' : formatBytes(entry.size)}</td>
                <td class="col-modified">{formatWhen(entry.modifiedMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor !== null && entries !== null && <button type="button" class="button" onClick={() => void more()}>Show more</button>}
    </section>
  );
}
