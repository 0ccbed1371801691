/**
 * Keyboard shortcuts, as in the mail and drive apps people know: one key, no modifier, heard
 * only when the user is not typing (an input, a text area, an editable region) and no dialog
 * is open. `?` shows the list (KeyboardHelp).
 */
import { useEffect } from 'preact/hooks';

/** The shortcuts, for the help dialog: the key as shown, and what it does. */
export const SHORTCUTS: readonly { keys: string; does: string }[] = [
  { keys: 'c', does: 'Compose a message (in Mail)' },
  { keys: '/', does: 'Search (mail or the drive)' },
  { keys: 'j', does: 'Next message in the list' },
  { keys: 'k', does: 'Previous message in the list' },
  { keys: 'Enter', does: 'Open the message in focus' },
  { keys: '?', does: 'Show these shortcuts' },
  { keys: 'Esc', does: 'Close a dialog' },
];

/** True when a key press belongs to what the user is typing or to an open dialog. */
function busyElsewhere(e: KeyboardEvent): boolean {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return true;
  const target = e.target as HTMLElement | null;
  if (target !== null && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return true;
  return document.querySelector('dialog[open]') !== null;
}

/** Calls `action` when `key` (a KeyboardEvent.key such as "c" or "?") is pressed outside typing. */
export function useShortcut(key: string, action: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== key || busyElsewhere(e)) return;
      e.preventDefault();
      action();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [key, action]);
}

/** Moves focus `step` places along the elements matching `selector` (from the focused one). */
export function moveFocus(selector: string, step: 1 | -1): void {
  const items = [...document.querySelectorAll<HTMLElement>(selector)];
  if (items.length === 0) return;
  const at = items.indexOf(document.activeElement as HTMLElement);
  const next = at === -1 ? (step === 1 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
  items[next]!.focus();
}
