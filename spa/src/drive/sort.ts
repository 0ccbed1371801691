/** Ordering a folder's entries: folders first, then by the chosen column. */
import type { DriveEntry } from '../api/drive-api';

export type SortKey = 'name' | 'size' | 'modified';
export interface SortOrder {
  key: SortKey;
  ascending: boolean;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function sortEntries(entries: readonly DriveEntry[], order: SortOrder): DriveEntry[] {
  const sign = order.ascending ? 1 : -1;
  return [...entries].sort((a, b) => {
    if (a.type !== b.type) return a.type === 'folder' ? -1 : 1;
    let diff = 0;
    if (order.key === 'size') diff = a.size - b.size;
    else if (order.key === 'modified') diff = a.modifiedMs - b.modifiedMs;
    if (diff === 0) diff = collator.compare(a.name, b.name);
    return diff * sign;
  });
}

/** Clicking a column sorts by it; clicking it again turns the order round. */
export function nextOrder(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) return { key, ascending: !current.ascending };
  return { key, ascending: key === 'name' };
}
