/** Confirming a delete; a folder says that everything inside goes too. */
import { useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import type { DriveEntry } from '../api/drive-api';
import { Dialog } from '../ui/dialog';

export function DeleteDialog({ entry, onConfirm, onClose }: { entry: DriveEntry; onConfirm: () => Promise<void>; onClose: () => void }) {
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
  const what = entry.type === 'folder' ? 'folder' : 'file';
  return (
    <Dialog title={`Delete this ${what}?`} onClose={onClose}>
      <p>
        <strong class="break">{entry.name}</strong> will be deleted for good
        {entry.type === 'folder' ? ', with everything inside it.' : '.'} This cannot be undone.
      </p>
      {error && <p class="form-error" role="alert">{error}</p>}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose} autoFocus>Cancel</button>
        <button type="button" class="button button-danger" onClick={confirm} disabled={busy}>{busy ? 'Deleting…' : 'Delete'}</button>
      </div>
    </Dialog>
  );
}
