/** Uploading over files of the same name: replace them, or upload only the new ones. */
import { Dialog } from '../ui/dialog';
import { plural } from '../ui/format';

export function ReplaceDialog({ existing, onReplace, onSkip, onClose }: { existing: string[]; onReplace: () => void; onSkip: () => void; onClose: () => void }) {
  return (
    <Dialog title={existing.length === 1 ? 'Replace the existing file?' : `Replace ${plural(existing.length, 'existing file')}?`} onClose={onClose}>
      <p>This folder already has {existing.length === 1 ? 'a file' : 'files'} with {existing.length === 1 ? 'this name' : 'these names'}:</p>
      <ul class="name-list">
        {existing.slice(0, 8).map((name) => <li key={name} class="break">{name}</li>)}
        {existing.length > 8 && <li>and {existing.length - 8} more</li>}
      </ul>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose}>Cancel</button>
        <button type="button" class="button" onClick={onSkip}>Skip {existing.length === 1 ? 'it' : 'them'}</button>
        <button type="button" class="button button-primary" onClick={onReplace} autoFocus>Replace</button>
      </div>
    </Dialog>
  );
}
