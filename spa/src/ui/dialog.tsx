/**
 * A modal dialog on the native <dialog> element: it traps focus, closes on Escape and sits
 * above everything, with no script of ours for any of that.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { ToastRegion } from './toasts';

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** Wider dialogs for previews and the move picker. */
  size?: 'small' | 'large';
  class?: string;
}

export function Dialog({ title, onClose, children, size = 'small', class: extra }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // Focus goes back to what opened the dialog (a row's button), so keyboard users keep their place.
  // The dialog is closed first: while it is still open and modal the page behind it is inert,
  // and focus() on an inert element does nothing.
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = ref.current;
    return () => {
      if (dialog?.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => dialog.removeEventListener('cancel', onCancel);
  }, [onClose]);
  return (
    <dialog ref={ref} class={`dialog dialog-${size}${extra ? ` ${extra}` : ''}`} aria-labelledby={titleId}>
      <header class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15" /></svg>
        </button>
      </header>
      <div class="dialog-body">{children}</div>
      {/* A modal dialog covers the page and makes it inert, toasts included: the dialog shows them
          too, so an error about what was just done here is read above it and can be dismissed. */}
      <ToastRegion />
    </dialog>
  );
}
