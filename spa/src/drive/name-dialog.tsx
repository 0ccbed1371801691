/** Asking for a name: a new folder's, or a new name for a file or folder. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, NetworkError } from '../api/api-error';
import { nameProblem } from '../api/drive-path';
import { Dialog } from '../ui/dialog';
import { Field } from '../ui/field';

export interface NameDialogProps {
  title: string;
  label: string;
  action: string;
  initial?: string;
  onSubmit: (name: string) => Promise<void>;
  onClose: () => void;
}

export function NameDialog({ title, label, action, initial = '', onSubmit, onClose }: NameDialogProps) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = nameProblem(name);
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      await onSubmit(name.trim());
      onClose();
    } catch (err) {
      // A refused name belongs under the name; a server that went away is not the name's fault.
      if (err instanceof NetworkError) setFormError(describeError(err));
      else setError(describeError(err));
      setBusy(false);
    }
  };

  // Once the dialog is open (its effect runs first), focus the name and select it without its
  // extension, as file managers do, so typing replaces the stem.
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const field = input.current;
    if (field === null) return;
    const dot = initial.lastIndexOf('.');
    field.focus();
    field.setSelectionRange(0, dot > 0 ? dot : initial.length);
  }, [initial]);

  return (
    <Dialog title={title} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <Field label={label} name="name" value={name} onValue={(v) => { setName(v); setError(null); setFormError(null); }} error={error}
          inputRef={input} autoComplete="off" spellcheck={false} />
        {formError && <p class="form-error" role="alert">{formError}</p>}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="button button-primary" disabled={busy}>{busy ? 'Saving…' : action}</button>
        </div>
      </form>
    </Dialog>
  );
}
