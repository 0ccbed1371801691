/**
 * Short confirmations and errors at the bottom of the screen ("Folder created", "Could not
 * delete: ..."), announced to screen readers through a live region.
 */
import { createStore, useStore } from './store';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  /** A button in the toast (Undo); pressing it runs `run` and dismisses the toast. */
  action?: ToastAction;
}

export interface ToastAction {
  label: string;
  run: () => void;
}

/** How long a toast stays; errors stay longer, since they need reading. */
const INFO_SHOWN_MS = 4_000;
const ERROR_SHOWN_MS = 9_000;
/** A toast with an action (Undo) stays long enough to reach for it. */
const ACTION_SHOWN_MS = 10_000;
/** Toasts shown at once; older ones make way. */
const TOASTS_MAX = 4;

const toasts = createStore<Toast[]>([]);
let nextId = 1;

/** Shows a toast. */
export function toast(text: string, kind: Toast['kind'] = 'info', action?: ToastAction): void {
  const id = nextId++;
  toasts.set([...toasts.get(), { id, kind, text, ...(action === undefined ? {} : { action }) }].slice(-TOASTS_MAX));
  setTimeout(() => dismiss(id), action !== undefined ? ACTION_SHOWN_MS : kind === 'error' ? ERROR_SHOWN_MS : INFO_SHOWN_MS);
}

/** Removes every toast (on sign-out: they belong to the user who left). */
export function clearToasts(): void {
  toasts.set([]);
}

function dismiss(id: number): void {
  toasts.set(toasts.get().filter((t) => t.id !== id));
}

/** The toasts; the app shows them at the bottom of the page, and each open dialog above itself. */
export function ToastRegion() {
  const list = useStore(toasts);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          {t.action && (
            <button type="button" class="toast-action" onClick={() => { dismiss(t.id); t.action!.run(); }}>{t.action.label}</button>
          )}
          <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
