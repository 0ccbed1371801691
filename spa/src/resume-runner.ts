/**
 * Finishing, on the new frontend, what the user asked for when the old one went away. The old
 * frontend may have done it before it died, so "already done" counts as done: a folder that
 * exists, a path that is already gone.
 */
import { describeError } from './api/api-error';
import { createFolder, deleteNode, moveNode } from './api/drive-api';
import { baseName } from './api/drive-path';
import { isApiError } from './api/http';
import type { ResumeAction } from './api/reconnect';
import { pendingDraft } from './mail/draft-store';
import { toast } from './ui/toasts';

/** Runs `action` and says how it went. */
export async function runResumeAction(action: ResumeAction): Promise<void> {
  try {
    switch (action.kind) {
      case 'mkdir':
        await createFolder(action.path, true);
        toast(`Reconnected. Folder “${baseName(action.path)}” created.`);
        return;
      case 'move':
        try {
          await moveNode(action.from, action.to);
        } catch (err) {
          if (!isApiError(err, 'NOT_FOUND')) throw err;
        }
        toast(`Reconnected. “${baseName(action.from)}” is now “${action.to}”.`);
        return;
      case 'delete':
        try {
          await deleteNode(action.path, action.recursive);
        } catch (err) {
          if (!isApiError(err, 'NOT_FOUND')) throw err;
        }
        toast(`Reconnected. “${baseName(action.path)}” moved to the trash.`);
        return;
      case 'notice':
        toast(`Reconnected. ${action.text}`, 'error');
        return;
      case 'draft':
        pendingDraft.set(action.draft);
        toast('Reconnected. Your message may not have gone out: look in Sent, and press Send again if it is not there.', 'error');
        return;
    }
  } catch (err) {
    toast(`Reconnected, but the last action failed: ${describeError(err)}`, 'error');
  }
}
