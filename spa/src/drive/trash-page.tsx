/**
 * The drive's trash: what was deleted, where it came from and when it goes for good; each entry
 * can be restored or deleted for good, and the whole trash emptied (after a confirmation).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { deleteForever, emptyTrash, listTrash, restoreFromTrash, type TrashEntry, type TrashListing } from '../api/drive-api';
import { baseName, parentPath } from '../api/drive-path';
import { formatBytes, formatFullTime, formatWhen, plural } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { toast } from '../ui/toasts';
import { DeleteDialog } from './delete-dialog';
import { driveHref } from './drive-route';
import { UsageMeter } from './usage-meter';

type Open = { kind: 'forever'; entry: TrashEntry } | { kind: 'empty' } | null;

export function TrashPage() {
  const [listing, setListing] = useState<TrashListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Open>(null);

  const reload = useCallback(async () => {
    try {
      setListing(await listTrash());
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, []);
  useEffect(() => { void reload(); }, [reload]);

  const restore = async (entry: TrashEntry) => {
    try {
      await restoreFromTrash(entry.id);
      const folder = parentPath(entry.originalPath);
      toast(`Restored “${entry.name}” to ${folder === '/' ? 'My Drive' : `“${baseName(folder)}”`}.`);
    } catch (err) {
      toast(`Could not restore “${entry.name}”: ${describeError(err)}`, 'error');
    }
    await reload();
  };

  const entries = [...(listing?.entries ?? [])].reverse();
  return (
    <main class="page drive" id="main">
      <header class="page-head">
        <div class="page-title">
          <h1>Trash</h1>
          {listing && <p class="muted">Deleted items are deleted for good after {plural(listing.retentionDays, 'day')}. They count toward your storage until then.</p>}
        </div>
        <div class="toolbar" role="toolbar" aria-label="Trash actions">
          <Link class="button" href="/drive"><Icon name="back" /> My Drive</Link>
          <button type="button" class="button button-danger" disabled={entries.length === 0} onClick={() => setOpen({ kind: 'empty' })}>Empty trash</button>
        </div>
      </header>
      {error !== null && <ErrorState title="The trash could not be opened" message={error} onRetry={() => void reload()} />}
      {error === null && listing === null && <Loading label="Loading trash…" />}
      {error === null && listing !== null && entries.length === 0 && (
        <EmptyState icon="trash" title="The trash is empty">
          <p>What you delete in the drive waits here, so it can be restored.</p>
        </EmptyState>
      )}
      {entries.length > 0 && (
        <table class="files trash-list">
          <caption class="visually-hidden">Deleted files and folders, most recently deleted first</caption>
          <thead>
            <tr>
              <th class="col-name" scope="col">Name</th>
              <th class="col-size" scope="col">Size</th>
              <th class="col-modified" scope="col">Deleted</th>
              <th class="col-actions" scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-entry-name={entry.name}>
                <td class="col-name">
                  <span class="entry-name">
                    <Icon name={entry.type === 'folder' ? 'folder' : 'file'} />
                    <span class="break">{entry.name}</span>
                  </span>
                  <span class="muted trash-origin">from <Link href={driveHref(parentPath(entry.originalPath))}>{parentPath(entry.originalPath) === '/' ? 'My Drive' : parentPath(entry.originalPath)}</Link></span>
                </td>
                <td class="col-size">{entry.type === 'folder' ? '—' : formatBytes(entry.size)}</td>
                <td class="col-modified"><time dateTime={new Date(entry.deletedMs).toISOString()} title={`Deleted for good ${formatFullTime(entry.purgeMs)}`}>{formatWhen(entry.deletedMs)}</time></td>
                <td class="col-actions">
                  <div class="row-actions">
                    <button type="button" class="icon-button" aria-label={`Restore ${entry.name}`} title="Restore" onClick={() => void restore(entry)}><Icon name="restore" /></button>
                    <button type="button" class="icon-button" aria-label={`Delete ${entry.name} for good`} title="Delete for good" onClick={() => setOpen({ kind: 'forever', entry })}><Icon name="trash" /></button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {listing?.usage && <UsageMeter usage={listing.usage} />}

      {open?.kind === 'forever' && (
        <DeleteDialog entry={open.entry} onClose={() => setOpen(null)}
          onConfirm={async () => {
            await deleteForever(open.entry.id);
            toast(`Deleted “${open.entry.name}” for good.`);
            await reload();
          }} />
      )}
      {open?.kind === 'empty' && (
        <DeleteDialog entry={{ name: plural(entries.length, 'item'), type: 'trash' }} onClose={() => setOpen(null)}
          onConfirm={async () => {
            const removed = await emptyTrash();
            toast(`Trash emptied: ${plural(removed, 'item')} deleted for good.`);
            await reload();
          }} />
      )}
    </main>
  );
}
