/** A message being written that must survive a move to another frontend (no attachments). */
import { createStore } from '../ui/store';

export interface Draft {
  to: string;
  cc: string;
  subject: string;
  text: string;
}

/** Set when the app reconnected while a message was being sent; the mail screen reopens it. */
export const pendingDraft = createStore<Draft | null>(null);
