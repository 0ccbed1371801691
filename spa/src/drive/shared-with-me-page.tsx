/**
 * "Shared with me": the folders other users share with the signed-in user, read-only. Opening
 * one browses it in place (folders open, files download).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { openSharedFolder, sharedFolderFileUrl, sharedWithMe, type SharedFolderInfo, type SharedView } from '../api/shares-api';
import { formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { SharedFolder } from './shared-page';

export function SharedWithMePage() {
  const [folders, setFolders] = useState<SharedFolderInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<{ folder: SharedFolderInfo; path: string; view: SharedView } | null>(null);

  useEffect(() => {
    sharedWithMe().then(setFolders, (err: unknown) => setError(describeError(err)));
  }, []);

  const browse = useCallback(async (folder: SharedFolderInfo, path: string) => {
    try {
      setOpen({ folder, path, view: await openSharedFolder(folder.owner, folder.id, path) });
    } catch (err) {
      setError(describeError(err));
    }
  }, []);

  return (
    <main class="page drive" id="main">
      <header class="page-head">
        <div class="page-title">
          <h1>{open === null ? 'Shared with me' : open.folder.name}</h1>
          {open !== null && <p class="muted">Shared by {open.folder.owner} · read-only{open.path === '/' ? '' : ` · ${open.path}`}</p>}
        </div>
        <div class="toolbar">
          {open !== null
            ? <button type="button" class="button" onClick={() => setOpen(null)}><Icon name="back" /> Shared with me</button>
            : <Link class="button" href="/drive"><Icon name="back" /> My Drive</Link>}
        </div>
      </header>
      {error !== null && <ErrorState title="The shared folder could not be opened" message={error} />}
      {error === null && folders === null && <Loading label="Loading…" />}
      {error === null && open === null && folders !== null && folders.length === 0 && (
        <EmptyState icon="folder" title="Nothing is shared with you yet">
          <p>Folders other people share with you appear here.</p>
        </EmptyState>
      )}
      {error === null && open === null && folders !== null && folders.length > 0 && (
        <ul class="shared-entries panel" aria-label="Folders shared with me">
          {folders.map((f) => (
            <li key={`${f.owner}/${f.id}`} data-entry-name={f.name}>
              <Icon name="folder" />
              <button type="button" class="link-button" onClick={() => void browse(f, '/')}>{f.name}</button>
              <span class="muted">from {f.owner} · {formatWhen(f.grantedMs)}</span>
            </li>
          ))}
        </ul>
      )}
      {error === null && open !== null && (
        <SharedFolder path={open.path} entries={open.view.entries ?? []} onOpen={(p) => void browse(open.folder, p)}
          url={(p) => sharedFolderFileUrl(open.folder.owner, open.folder.id, p)} />
      )}
    </main>
  );
}
