/**
 * A folder's entries as a table sortable by name, size and modification time. The name opens a
 * folder or previews a file; each row has its own labelled actions, and a checkbox to select
 * it (shift-click selects the rows between it and the last one clicked; the header's checkbox
 * selects all).
 */
import { useRef } from 'preact/hooks';
import type { DriveEntry } from '../api/drive-api';
import { fileUrl } from '../api/drive-api';
import { formatBytes, formatFullTime, formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { Link } from '../ui/router';
import { driveHref } from './drive-route';
import { fileKind, kindIcon, kindLabel } from './file-kind';
import { sortEntries, type SortKey, type SortOrder } from './sort';
import { entryDropTarget, startEntriesDrag } from './drag-entries';

export interface FileListProps {
  entries: DriveEntry[];
  order: SortOrder;
  onSort: (key: SortKey) => void;
  onPreview: (entry: DriveEntry) => void;
  onRename: (entry: DriveEntry) => void;
  onMove: (entry: DriveEntry) => void;
  onDelete: (entry: DriveEntry) => void;
  onShare: (entry: DriveEntry) => void;
  /** Ids of the selected entries. */
  selected: ReadonlySet<string>;
  /** Sets whether `ids` are selected. */
  onSelect: (ids: string[], selected: boolean) => void;
  /** Entries (by path) dropped onto a folder row, to move there. */
  onDropInto: (folder: string, paths: string[]) => void;
}

const COLUMNS: { key: SortKey; label: string; class: string }[] = [
  { key: 'name', label: 'Name', class: 'col-name' },
  { key: 'size', label: 'Size', class: 'col-size' },
  { key: 'modified', label: 'Modified', class: 'col-modified' },
];

export function FileList({ entries, order, onSort, onPreview, onRename, onMove, onDelete, onShare, selected, onSelect, onDropInto }: FileListProps) {
  const sorted = sortEntries(entries, order);
  const lastClicked = useRef<number | null>(null);
  const allSelected = sorted.length > 0 && sorted.every((e) => selected.has(e.id));
  const toggle = (index: number, shift: boolean) => {
    const entry = sorted[index]!;
    const turnOn = !selected.has(entry.id);
    if (shift && lastClicked.current !== null && lastClicked.current < sorted.length) {
      const [from, to] = [Math.min(lastClicked.current, index), Math.max(lastClicked.current, index)];
      onSelect(sorted.slice(from, to + 1).map((e) => e.id), turnOn);
    } else {
      onSelect([entry.id], turnOn);
    }
    lastClicked.current = index;
  };
  return (
    <table class="files">
      <caption class="visually-hidden">Files and folders, sorted by {order.key}, {order.ascending ? 'ascending' : 'descending'}</caption>
      <thead>
        <tr>
          <th class="col-select" scope="col">
            <input type="checkbox" aria-label="Select all" checked={allSelected}
              onChange={() => onSelect(sorted.map((e) => e.id), !allSelected)} />
          </th>
          {COLUMNS.map((c) => (
            <th key={c.key} class={c.class} scope="col"
              aria-sort={order.key === c.key ? (order.ascending ? 'ascending' : 'descending') : 'none'}>
              <button type="button" class="sort-button" onClick={() => onSort(c.key)}>
                {c.label}
                <span class="sort-mark" aria-hidden="true">{order.key === c.key ? (order.ascending ? '▲' : '▼') : ''}</span>
              </button>
            </th>
          ))}
          <th class="col-actions" scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((entry, index) => (
          <tr key={entry.id} data-entry-name={entry.name} class={selected.has(entry.id) ? 'selected' : undefined} draggable
            onDragStart={(e) => startEntriesDrag(e, selected.has(entry.id) ? sorted.filter((s) => selected.has(s.id)).map((s) => s.path) : [entry.path])}
            {...(entry.type === 'folder' ? entryDropTarget(entry.path, onDropInto) : {})}>
            <td class="col-select">
              <input type="checkbox" aria-label={`Select ${entry.name}`} checked={selected.has(entry.id)}
                onClick={(e) => toggle(index, (e as MouseEvent).shiftKey)} />
            </td>
            <td class="col-name">
              <EntryName entry={entry} onPreview={onPreview} />
            </td>
            <td class="col-size">{entry.type === 'folder' ? '—' : formatBytes(entry.size)}</td>
            <td class="col-modified"><time dateTime={new Date(entry.modifiedMs).toISOString()} title={formatFullTime(entry.modifiedMs)}>{formatWhen(entry.modifiedMs)}</time></td>
            <td class="col-actions">
              <div class="row-actions">
                {entry.type === 'file' && (
                  <a class="icon-button" href={fileUrl(entry.path)} download={entry.name} aria-label={`Download ${entry.name}`} title="Download">
                    <Icon name="download" />
                  </a>
                )}
                <button type="button" class="icon-button" onClick={() => onShare(entry)} aria-label={`Share ${entry.name}`} title="Share a link">
                  <Icon name="share" />
                </button>
                <button type="button" class="icon-button" onClick={() => onRename(entry)} aria-label={`Rename ${entry.name}`} title="Rename">
                  <Icon name="rename" />
                </button>
                <button type="button" class="icon-button" onClick={() => onMove(entry)} aria-label={`Move ${entry.name}`} title="Move">
                  <Icon name="move" />
                </button>
                <button type="button" class="icon-button icon-button-danger" onClick={() => onDelete(entry)} aria-label={`Delete ${entry.name}`} title="Delete">
                  <Icon name="trash" />
                </button>
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EntryName({ entry, onPreview }: { entry: DriveEntry; onPreview: (entry: DriveEntry) => void }) {
  if (entry.type === 'folder') {
    return (
      <Link href={driveHref(entry.path)} class="entry-name">
        <Icon name="folder" class="entry-icon entry-icon-folder" />
        <span class="entry-label">{entry.name}</span>
        <span class="visually-hidden">, folder</span>
      </Link>
    );
  }
  const kind = fileKind(entry.name);
  return (
    <button type="button" class="entry-name" onClick={() => onPreview(entry)}>
      <Icon name={kindIcon(kind)} class={`entry-icon entry-icon-${kind}`} />
      <span class="entry-label">{entry.name}</span>
      <span class="visually-hidden">, {kindLabel(kind)}, {formatBytes(entry.size)}</span>
    </button>
  );
}
