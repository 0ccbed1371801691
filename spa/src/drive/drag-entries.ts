/**
 * Dragging drive entries inside the app (onto a folder row or a breadcrumb, to move them): the
 * drag carries their paths under a type of its own, so drops from the desktop (files) and from
 * elsewhere are told apart.
 */
/** The drag data type of entries being moved. */
export const ENTRIES_TYPE = 'application/x-penncloud-entries';

/** True when a drag carries drive entries. */
export function carriesEntries(e: DragEvent): boolean {
  return [...(e.dataTransfer?.types ?? [])].includes(ENTRIES_TYPE);
}

/** Starts a drag of `paths`. */
export function startEntriesDrag(e: DragEvent, paths: string[]): void {
  e.dataTransfer!.setData(ENTRIES_TYPE, JSON.stringify(paths));
  e.dataTransfer!.setData('text/plain', paths.join('\n'));
  e.dataTransfer!.effectAllowed = 'move';
}

/** The paths a drop carries (none when it carries no entries). */
export function droppedEntries(e: DragEvent): string[] {
  try {
    const value = JSON.parse(e.dataTransfer?.getData(ENTRIES_TYPE) || '[]') as unknown;
    return Array.isArray(value) ? value.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

/** Handlers that make an element a drop target for entries, moving them into `folder`. */
export interface DropHandlers {
  onDragOver: (e: DragEvent) => void;
  onDragLeave: (e: DragEvent) => void;
  onDrop: (e: DragEvent) => void;
}

export function entryDropTarget(folder: string, onDrop: (folder: string, paths: string[]) => void): DropHandlers {
  return {
    onDragOver: (e: DragEvent) => {
      if (!carriesEntries(e)) return;
      e.preventDefault();
      e.dataTransfer!.dropEffect = 'move';
      (e.currentTarget as HTMLElement).classList.add('drop-target');
    },
    onDragLeave: (e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove('drop-target'),
    onDrop: (e: DragEvent) => {
      if (!carriesEntries(e)) return;
      e.preventDefault();
      e.stopPropagation();
      (e.currentTarget as HTMLElement).classList.remove('drop-target');
      const paths = droppedEntries(e);
      if (paths.length > 0) onDrop(folder, paths);
    },
  };
}
