/** Confirming a delete for good (from the trash); a folder says that everything inside goes too. */
import { useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { Dialog } from '../ui/dialog';

/** What is deleted: a file, a folder, or everything in the trash (`name` then says how much). */
export interface DeleteTarget {
  name: string;
  type: 'file' | 'folder' | 'trash';
}

export function DeleteDialog({ entry, onConfirm, onClose }: { entry: DeleteTarget; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={entry.type === 'trash' ? 'Empty the trash?' : `Delete this ${entry.type} for good?`} onClose={onClose}>
      <p>
        <strong class="break">{entry.name}</strong> will be deleted for good
        {entry.type === 'folder' ? ', with everything inside it.' : '.'} This cannot be undone.
      </p>
      {error && <p class="form-error" role="alert">{error}</p>}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose} autoFocus>Cancel</button>
        <button type="button" class="button button-danger" onClick={confirm} disabled={busy}>{busy ? 'Deleting…' : entry.type === 'trash' ? 'Empty trash' : 'Delete for good'}</button>
      </div>
    </Dialog>
  );
}
