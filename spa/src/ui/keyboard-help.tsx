/** The list of keyboard shortcuts, opened with `?` anywhere in the app. */
import { useCallback, useState } from 'preact/hooks';
import { Dialog } from './dialog';
import { SHORTCUTS, useShortcut } from './shortcuts';

export function KeyboardHelp() {
  const [open, setOpen] = useState(false);
  const show = useCallback(() => setOpen(true), []);
  const close = useCallback(() => setOpen(false), []);
  useShortcut('?', show);
  if (!open) return null;
  return (
    <Dialog title="Keyboard shortcuts" onClose={close}>
      <dl class="shortcuts">
        {SHORTCUTS.map((s) => (
          <div key={s.keys} class="shortcut">
            <dt><kbd>{s.keys}</kbd></dt>
            <dd>{s.does}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
