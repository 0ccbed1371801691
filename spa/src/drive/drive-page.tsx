/**
 * The drive: one folder at a time, with its path, its entries, uploads (picker or drag and
 * drop) and the dialogs for new folder, rename, move and preview. Deleting moves to the trash
 * at once; the toast that says so, like the one of a move, carries Undo.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { createFolder, deleteNode, listFolder, moveNode, restoreFromTrash, zipUrl, type DriveEntry, type FolderListing } from '../api/drive-api';
import { plural } from '../ui/format';
import { baseName, childPath, parentPath } from '../api/drive-path';
import { isApiError } from '../api/http';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';
import { EmptyState, ErrorState, Loading } from '../ui/states';
import { toast } from '../ui/toasts';
import { Breadcrumbs } from './breadcrumbs';
import { folderOfHref } from './drive-route';
import { DropZone } from './drop-zone';
import { FileList } from './file-list';
import { MoveDialog } from './move-dialog';
import { NameDialog } from './name-dialog';
import { PreviewDialog } from './preview-dialog';
import { ReplaceDialog } from './replace-dialog';
import { ShareDialog } from './share-dialog';
import { DriveSearchResults } from './drive-search';
import { SearchBox } from '../ui/search-box';
import { nextOrder, type SortOrder } from './sort';
import { UploadPanel } from './upload-panel';
import { UploadQueue } from './upload-queue';
import { UsageMeter } from './usage-meter';

type Open =
  | { kind: 'new-folder' }
  | { kind: 'rename' | 'preview' | 'share'; entry: DriveEntry }
  | { kind: 'move'; entries: DriveEntry[] }
  | { kind: 'replace'; files: File[]; existing: string[] }
  | null;

export function DrivePage({ path }: { path: string }) {
  const folder = folderOfHref(path) ?? '/';
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [error, setError] = useState<{ notFound: boolean; message: string } | null>(null);
  const [order, setOrder] = useState<SortOrder>({ key: 'name', ascending: true });
  const [open, setOpen] = useState<Open>(null);
  const [search, setSearch] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const folderRef = useRef(folder);
  folderRef.current = folder;
  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);

  const reload = useCallback(async () => {
    const wanted = folderRef.current;
    try {
      const result = await listFolder(wanted);
      if (folderRef.current !== wanted) return;
      setListing(result);
      setError(null);
    } catch (err) {
      if (folderRef.current !== wanted) return;
      setError({ notFound: isApiError(err, 'NOT_FOUND'), message: describeError(err) });
    }
  }, []);

  useEffect(() => {
    setListing(null);
    setError(null);
    setSearch(null);
    setSelected(new Set());
    void reload();
  }, [folder, reload]);

  const queue = useMemo(() => new UploadQueue((stored) => { if (stored === folderRef.current) void reload(); }), [reload]);

  const upload = (files: File[]) => {
    if (files.length === 0) return;
    const names = new Set((listing?.entries ?? []).map((e) => e.name));
    const folders = new Set((listing?.entries ?? []).filter((e) => e.type === 'folder').map((e) => e.name));
    const blocked = files.filter((f) => folders.has(f.name));
    if (blocked.length > 0) toast(`A folder is already called ${blocked.map((f) => `“${f.name}”`).join(', ')}; rename it first.`, 'error');
    const allowed = files.filter((f) => !folders.has(f.name));
    const existing = allowed.filter((f) => names.has(f.name)).map((f) => f.name);
    if (existing.length > 0) setOpen({ kind: 'replace', files: allowed, existing });
    else queue.add(folder, allowed);
  };

  const close = useCallback(() => setOpen(null), []);

  /**
   * A folder from the folder picker: its folders are made first, top down (an existing one is
   * fine), then each file is queued into its own folder, so the tree arrives as it was.
   */
  const uploadTree = async (files: File[]) => {
    if (files.length === 0) return;
    const byFolder = new Map<string, File[]>();
    for (const file of files) {
      const parts = (file.webkitRelativePath || file.name).split('/').filter((p) => p !== '');
      const dir = parts.slice(0, -1).reduce((at, name) => childPath(at, name), folder);
      byFolder.set(dir, [...(byFolder.get(dir) ?? []), file]);
    }
    const folders = new Set<string>();
    for (const dir of byFolder.keys()) {
      for (let at = dir; at !== folder && at !== '/'; at = parentPath(at)) folders.add(at);
    }
    try {
      for (const dir of [...folders].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))) await createFolder(dir, true);
    } catch (err) {
      toast(`Could not make the folders: ${describeError(err)}`, 'error');
      return;
    }
    for (const [dir, list] of byFolder) queue.add(dir, list);
    await reload();
  };

  /**
   * Moves `paths` into `target` one after another; one toast for what moved, with one Undo. A
   * failed move stops the rest and is thrown (`stopOnError`, the Move dialog shows it there), or
   * is told in a toast of its own and the rest go on (a drag has nowhere else to say it).
   */
  const moveAll = async (target: string, paths: string[], stopOnError: boolean) => {
    const moves = paths.filter((p) => parentPath(p) !== target && p !== target).map((p) => ({ from: p, to: childPath(target, baseName(p)), name: baseName(p) }));
    const done: typeof moves = [];
    try {
      for (const m of moves) {
        try {
          await moveNode(m.from, m.to);
          done.push(m);
        } catch (err) {
          if (stopOnError) throw err;
          toast(`Could not move “${m.name}”: ${describeError(err)}`, 'error');
        }
      }
    } finally {
      if (done.length > 0) {
        const what = moves.length === 1 ? `“${done[0]!.name}”` : plural(done.length, 'item');
        toast(`Moved ${what} to ${target === '/' ? 'My Drive' : `“${baseName(target)}”`}.`, 'info',
          { label: 'Undo', run: undo('Move', () => eachInTurn(done, (m) => moveNode(m.to, m.from))) });
      }
      setSelected(new Set());
      await reload();
    }
  };

  /** Entries dragged onto a folder or a breadcrumb move there. */
  const moveInto = (target: string, paths: string[]) => moveAll(target, paths, false);

  /** Runs an Undo: says how it went and shows the folder as it is now. */
  const undo = (what: string, run: () => Promise<unknown>) => () => {
    run().then(() => toast(`${what} undone.`), (err: unknown) => toast(`Could not undo: ${describeError(err)}`, 'error')).finally(() => void reload());
  };

  /** Moves `targets` to the trash, one after another; one toast, whose Undo restores them all. */
  const remove = async (targets: DriveEntry[]) => {
    const trashed: string[] = [];
    for (const entry of targets) {
      try {
        trashed.push((await deleteNode(entry.path, entry.type === 'folder')).id);
      } catch (err) {
        toast(`Could not delete “${entry.name}”: ${describeError(err)}`, 'error');
      }
    }
    if (trashed.length > 0) {
      const what = trashed.length === 1 && targets.length === 1 ? `“${targets[0]!.name}”` : plural(trashed.length, 'item');
      toast(`Moved ${what} to the trash.`, 'info', { label: 'Undo', run: undo('Delete', () => eachInTurn(trashed, restoreFromTrash)) });
    }
    setSelected(new Set());
    await reload();
  };

  const select = (ids: string[], on: boolean) => {
    const next = new Set(selected);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    setSelected(next);
  };
  const entries = listing?.entries ?? [];
  const chosen = entries.filter((e) => selected.has(e.id));

  return (
    <DropZone folderName={folder === '/' ? 'My Drive' : baseName(folder)} onFiles={upload}>
      <main class="page drive" id="main">
        <header class="page-head">
          <div class="page-title">
            <h1 class="visually-hidden">Drive</h1>
            <Breadcrumbs path={folder} onDropInto={(target, paths) => void moveInto(target, paths)} />
          </div>
          <div class="toolbar" role="toolbar" aria-label="Folder actions">
            <button type="button" class="button" onClick={() => setOpen({ kind: 'new-folder' })}>
              <Icon name="newFolder" /> New folder
            </button>
            <Link class="button" href="/shared"><Icon name="share" /> Shared with me</Link>
            <Link class="button" href="/trash"><Icon name="trash" /> Trash</Link>
            <button type="button" class="button button-primary" onClick={() => picker.current?.click()}>
              <Icon name="upload" /> Upload files
            </button>
            <input ref={picker} type="file" multiple class="visually-hidden" tabIndex={-1} aria-hidden="true"
              data-testid="upload-input"
              onChange={(e) => {
                const input = e.currentTarget as HTMLInputElement;
                upload([...(input.files ?? [])]);
                input.value = '';
              }} />
            <button type="button" class="button" onClick={() => folderPicker.current?.click()}>
              <Icon name="upload" /> Upload folder
            </button>
            {/* webkitdirectory: the browser's folder picker; each file knows its path inside the folder. */}
            <input ref={folderPicker} type="file" multiple class="visually-hidden" tabIndex={-1} aria-hidden="true"
              data-testid="folder-input" {...{ webkitdirectory: true }}
              onChange={(e) => {
                const input = e.currentTarget as HTMLInputElement;
                void uploadTree([...(input.files ?? [])]);
                input.value = '';
              }} />
          </div>
        </header>

        <SearchBox label="Search the drive" placeholder="Search the drive" initial={search ?? ''} onSearch={setSearch} />
        <UploadPanel queue={queue} />
        {search === null && chosen.length > 0 && (
          <div class="toolbar selection-bar" role="toolbar" aria-label="Selected items">
            <span class="selection-count">{plural(chosen.length, 'item')} selected</span>
            <a class="button button-small" href={zipUrl(chosen.map((e) => e.path))} download>
              <Icon name="download" /> Download as zip
            </a>
            <button type="button" class="button button-small" onClick={() => setOpen({ kind: 'move', entries: chosen })}><Icon name="move" /> Move</button>
            <button type="button" class="button button-small" onClick={() => void remove(chosen)}><Icon name="trash" /> Delete</button>
            <button type="button" class="button button-small" onClick={() => setSelected(new Set())}>Clear selection</button>
          </div>
        )}
        {search !== null && <DriveSearchResults query={search} onClear={() => setSearch(null)} onPreview={(entry) => setOpen({ kind: 'preview', entry })} />}

        {search === null && error !== null && (error.notFound
          ? (
            <div class="state state-error" role="alert">
              <h3>This folder does not exist</h3>
              <p>It may have been moved, renamed or deleted.</p>
              <Link class="button" href="/drive">Go to My Drive</Link>
            </div>
          )
          : <ErrorState title="The folder could not be opened" message={error.message} onRetry={() => void reload()} />)}
        {search === null && error === null && listing === null && <Loading label="Loading folder…" />}
        {search === null && error === null && listing !== null && entries.length === 0 && (
          <EmptyState icon="folder" title={folder === '/' ? 'Your drive is empty' : 'This folder is empty'}>
            <p>Drop files here, or choose <strong>Upload files</strong>. Folders keep things tidy.</p>
          </EmptyState>
        )}
        {search === null && error === null && entries.length > 0 && (
          <FileList entries={entries} order={order} onSort={(key) => setOrder(nextOrder(order, key))}
            onPreview={(entry) => setOpen({ kind: 'preview', entry })}
            onRename={(entry) => setOpen({ kind: 'rename', entry })}
            onMove={(entry) => setOpen({ kind: 'move', entries: [entry] })}
            onDelete={(entry) => void remove([entry])}
            selected={selected} onSelect={select} onDropInto={(target, paths) => void moveInto(target, paths)}
            onShare={(entry) => setOpen({ kind: 'share', entry })} />
        )}
        {listing?.usage && <UsageMeter usage={listing.usage} />}
      </main>

      {open?.kind === 'new-folder' && (
        <NameDialog title="New folder" label="Folder name" action="Create" initial="" onClose={close}
          onSubmit={async (name) => {
            await createFolder(childPath(folder, name));
            toast(`Folder “${name}” created.`);
            await reload();
          }} />
      )}
      {open?.kind === 'rename' && (
        <NameDialog title={`Rename ${open.entry.type}`} label="New name" action="Rename" initial={open.entry.name} onClose={close}
          onSubmit={async (name) => {
            if (name === open.entry.name) return;
            await moveNode(open.entry.path, childPath(parentPath(open.entry.path), name));
            toast(`Renamed to “${name}”.`);
            await reload();
          }} />
      )}
      {open?.kind === 'move' && (
        <MoveDialog entries={open.entries} onClose={close}
          onMove={(target) => moveAll(target, open.entries.map((e) => e.path), true)} />
      )}
      {open?.kind === 'preview' && <PreviewDialog entry={open.entry} onClose={close} />}
      {open?.kind === 'share' && <ShareDialog entry={open.entry} onClose={close} />}
      {open?.kind === 'replace' && (
        <ReplaceDialog existing={open.existing} onClose={close}
          onReplace={() => { queue.add(folder, open.files); close(); }}
          onSkip={() => { queue.add(folder, open.files.filter((f) => !open.existing.includes(f.name))); close(); }} />
      )}
    </DropZone>
  );
}

/** Runs `step` on each item, one after another (the API is asked once per item). */
async function eachInTurn<T>(items: readonly T[], step: (item: T) => Promise<unknown>): Promise<void> {
  for (const item of items) await step(item);
}
