/**
 * Moving files and folders: the user browses folders (starting where the first item is) and
 * picks the one to move them into. A folder cannot go into itself or below itself; those are
 * not offered.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { listFolder, type DriveEntry } from '../api/drive-api';
import { isWithin, joinNames, parentPath, pathNames } from '../api/drive-path';
import { Dialog } from '../ui/dialog';
import { Icon } from '../ui/icons';
import { Loading } from '../ui/states';

/** `onMove` gets the folder chosen; each entry keeps its name there. */
export function MoveDialog({ entries, onMove, onClose }: { entries: DriveEntry[]; onMove: (folder: string) => Promise<void>; onClose: () => void }) {
  const entry = entries[0]!;
  const [folder, setFolder] = useState(parentPath(entry.path));
  const [folders, setFolders] = useState<DriveEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    setFolders(null);
    setError(null);
    listFolder(folder, abort.signal).then(
      (listing) => setFolders(listing.entries.filter((e) => e.type === 'folder').sort((a, b) => a.name.localeCompare(b.name))),
      (err: unknown) => { if (!abort.signal.aborted) setError(describeError(err)); },
    );
    return () => abort.abort();
  }, [folder]);

  const here = entries.every((e) => parentPath(e.path) === folder);
  const move = async () => {
    setBusy(true);
    try {
      await onMove(folder);
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  const names = pathNames(folder);

  return (
    <Dialog title={entries.length === 1 ? `Move “${entry.name}”` : `Move ${entries.length} items`} onClose={onClose} size="large">
      <nav class="breadcrumbs breadcrumbs-compact" aria-label="Folder to move into">
        <ol>
          {[{ label: 'My Drive', path: '/' }, ...names.map((n, i) => ({ label: n, path: joinNames(names.slice(0, i + 1)) }))].map((step, i, all) => (
            <li key={step.path}>
              {i === all.length - 1
                ? <span aria-current="location">{step.label}</span>
                : <button type="button" class="link-button" onClick={() => setFolder(step.path)}>{step.label}</button>}
            </li>
          ))}
        </ol>
      </nav>
      <div class="picker" role="group" aria-label="Folders">
        {folders === null && error === null && <Loading label="Loading folders…" />}
        {folders !== null && folders.length === 0 && <p class="muted picker-empty">No folders in here.</p>}
        {folders?.map((f) => {
          const blocked = entries.some((e) => e.type === 'folder' && isWithin(f.path, e.path));
          return (
            <button key={f.id} type="button" class="picker-item" disabled={blocked} onClick={() => setFolder(f.path)}
              title={blocked ? 'A folder cannot be moved into itself' : `Open ${f.name}`}>
              <Icon name="folder" />
              <span>{f.name}</span>
              {!blocked && <Icon name="chevron" class="picker-chevron" />}
            </button>
          );
        })}
      </div>
      {error && <p class="form-error" role="alert">{error}</p>}
      <div class="dialog-actions">
        <span class="dialog-hint muted">{here ? (entries.length === 1 ? 'It is already in this folder.' : 'They are already in this folder.') : `Move into ${names.length === 0 ? 'My Drive' : names[names.length - 1]}`}</span>
        <button type="button" class="button" onClick={onClose}>Cancel</button>
        <button type="button" class="button button-primary" onClick={move} disabled={busy || here}>{busy ? 'Moving…' : 'Move here'}</button>
      </div>
    </Dialog>
  );
}
