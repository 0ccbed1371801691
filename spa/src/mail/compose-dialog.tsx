/**
 * Writing a message: new, reply, reply-all or forward (which keeps the original's attachments
 * on the server side). Files attach by picker or by dropping them on the dialog. What is written
 * is saved to Drafts as the user types (after a pause of DRAFT_SAVE_IDLE_MS), attachments
 * included, so it survives a closed tab or a frontend that goes away; closing the dialog saves
 * it too, and Discard throws the draft away.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api/api-error';
import { deleteMessage, saveDraft, sendMessage } from '../api/mail-api';
import { toast } from '../ui/toasts';
import { Dialog } from '../ui/dialog';
import { Field } from '../ui/field';
import { formatBytes } from '../ui/format';
import { Icon } from '../ui/icons';
import type { Draft } from './draft-store';

export interface ComposeSeed extends Draft {
  title: string;
  inReplyTo?: string;
  forwardOf?: string;
  /** Attachments the server adds (a forward's), shown so the user knows they go along. */
  carried?: string[];
  /** The saved draft being continued (its attachments go along). */
  draftId?: string;
  /** The attachments that draft holds. */
  kept?: string[];
}

/** Quiet time after the last change before the draft is saved. */
export const DRAFT_SAVE_IDLE_MS = 1_500;
/** Wait before a draft that could not be saved is tried again. */
export const DRAFT_RETRY_MS = 10_000;

/** Splits "a@x, Bo <b@y>; c@z" into addresses. */
export function splitAddresses(text: string): string[] {
  return text.split(/[,;]/).map((s) => s.trim()).filter(Boolean);
}

/** "a@x" or "Name <a@x>". */
const ADDRESS = /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/;
const ADDRESS_REASONS = new Set(['UNKNOWN_RECIPIENT', 'BAD_ADDRESS', 'NO_RECIPIENTS', 'TOO_MANY_RECIPIENTS']);

export function ComposeDialog({ seed, onSent, onClose }: { seed: ComposeSeed; onSent: () => void; onClose: () => void }) {
  const [to, setTo] = useState(seed.to);
  const [cc, setCc] = useState(seed.cc);
  const [subject, setSubject] = useState(seed.subject);
  const [text, setText] = useState(seed.text);
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<{ to?: string; cc?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const [draftId, setDraftId] = useState<string | undefined>(seed.draftId);
  const [kept, setKept] = useState<string[]>(seed.kept ?? []);
  const [saveState, setSaveState] = useState<'clean' | 'dirty' | 'saving' | 'saved' | 'failed'>('clean');
  // What the user changed since the last save started; a save in flight is never doubled.
  const edits = useRef(0);
  const saving = useRef<Promise<string | undefined> | null>(null);
  const latest = { to, cc, subject, text, files, draftId };
  const current = useRef(latest);
  current.current = latest;
  const hasContent = to.trim() !== '' || cc.trim() !== '' || subject.trim() !== '' || text.trim() !== '' || files.length > 0 || kept.length > 0;

  useEffect(() => {
    if (saveState !== 'dirty' && saveState !== 'failed') return;
    const timer = setTimeout(() => void save(), saveState === 'failed' ? DRAFT_RETRY_MS : DRAFT_SAVE_IDLE_MS);
    return () => clearTimeout(timer);
  }, [to, cc, subject, text, files, saveState]);

  const changed = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    edits.current++;
    setSaveState('dirty');
  };

  /** Saves what is written now as the draft (after a save already running); the draft's id. */
  const save = async (): Promise<string | undefined> => {
    if (saving.current !== null) await saving.current;
    const now = current.current;
    const editsAtStart = edits.current;
    const run = (async () => {
      setSaveState('saving');
      try {
        const id = await saveDraft({
          to: splitAddresses(now.to), cc: splitAddresses(now.cc), subject: now.subject, text: now.text,
          attachments: now.files, inReplyTo: seed.inReplyTo, forwardOf: now.draftId === undefined ? seed.forwardOf : undefined, draftOf: now.draftId,
        });
        setDraftId(id);
        // Files in this save now live in the draft; files added meanwhile wait for the next.
        setKept((k) => [...k, ...now.files.map((f) => f.name), ...(now.draftId === undefined ? seed.carried ?? [] : [])]);
        setFiles((fs) => fs.filter((f) => !now.files.includes(f)));
        setSaveState(edits.current === editsAtStart ? 'saved' : 'dirty');
        return id;
      } catch {
        setSaveState('failed');
        return now.draftId;
      } finally {
        saving.current = null;
      }
    })();
    saving.current = run;
    return run;
  };

  /** Closing keeps what was written: a last save, then the dialog goes. */
  const close = async () => {
    if (hasContent && saveState !== 'saved' && saveState !== 'clean') {
      await save();
      toast('Saved to Drafts.');
    }
    onClose();
  };

  const discard = async () => {
    if (saving.current !== null) await saving.current;
    const id = current.current.draftId;
    if (id !== undefined) {
      try {
        await deleteMessage(id);
      } catch (err) {
        toast(`Could not discard the draft: ${describeError(err)}`, 'error');
      }
    }
    onClose();
  };

  const addFiles = (list: FileList | null | undefined) => {
    setFiles((current) => [...current, ...(list ? [...list] : [])]);
    edits.current++;
    setSaveState('dirty');
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const toList = splitAddresses(to);
    const ccList = splitAddresses(cc);
    const badTo = toList.find((a) => !ADDRESS.test(a));
    const badCc = ccList.find((a) => !ADDRESS.test(a));
    const problems: typeof errors = {};
    if (toList.length === 0) problems.to = 'Add at least one recipient.';
    else if (badTo) problems.to = `“${badTo}” is not an email address.`;
    if (badCc) problems.cc = `“${badCc}” is not an email address.`;
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    try {
      if (saving.current !== null) await saving.current;
      const draftOf = current.current.draftId;
      await sendMessage({
        to: toList, cc: ccList, subject, text, inReplyTo: seed.inReplyTo, forwardOf: draftOf === undefined ? seed.forwardOf : undefined,
        draftOf, attachments: current.current.files,
      });
      onSent();
    } catch (err) {
      const message = describeError(err);
      // The API refuses unknown local recipients and bad addresses up front; say so beside them.
      if (err instanceof ApiError && err.reason !== undefined && ADDRESS_REASONS.has(err.reason)) {
        setErrors(/ in cc\b/.test(err.message) || ccList.some((a) => err.message.includes(a)) ? { cc: message } : { to: message });
      } else {
        setErrors({ form: message });
      }
      setBusy(false);
    }
  };

  return (
    <Dialog title={seed.title} onClose={() => void close()} size="large" class="compose">
      <form class={`form compose-form${over ? ' compose-drop' : ''}`} onSubmit={submit} noValidate
        onDragOver={(e) => { if ([...(e.dataTransfer?.types ?? [])].includes('Files')) { e.preventDefault(); setOver(true); } }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); addFiles(e.dataTransfer?.files); }}>
        <Field label="To" name="to" value={to} onValue={changed(setTo)} error={errors.to} autoComplete="email" hint="Separate addresses with commas." autoFocus={seed.to === ''} />
        <Field label="Cc" name="cc" value={cc} onValue={changed(setCc)} error={errors.cc} autoComplete="email" />
        <Field label="Subject" name="subject" value={subject} onValue={changed(setSubject)} />
        <div class="field">
          <label for="compose-text">Message</label>
          <textarea id="compose-text" class="textarea compose-text" rows={10} value={text}
            onInput={(e) => changed(setText)((e.currentTarget as HTMLTextAreaElement).value)} autoFocus={seed.to !== ''} />
        </div>
        <div class="attachments-edit">
          <button type="button" class="button button-small" onClick={() => picker.current?.click()}>
            <Icon name="paperclip" /> Attach files
          </button>
          <span class="muted">or drop them here</span>
          <input ref={picker} type="file" multiple class="visually-hidden" tabIndex={-1} aria-hidden="true" data-testid="attach-input"
            onChange={(e) => { addFiles((e.currentTarget as HTMLInputElement).files); (e.currentTarget as HTMLInputElement).value = ''; }} />
        </div>
        {(files.length > 0 || kept.length > 0 || (draftId === undefined && (seed.carried?.length ?? 0) > 0)) && (
          <ul class="chips" aria-label="Attachments">
            {draftId === undefined && seed.carried?.map((name) => <li key={`carried-${name}`} class="chip"><Icon name="paperclip" /> {name} <span class="muted">(from the original)</span></li>)}
            {kept.map((name, i) => <li key={`kept-${name}-${i}`} class="chip"><Icon name="paperclip" /> {name} <span class="muted">(in the draft)</span></li>)}
            {files.map((file, i) => (
              <li key={`${file.name}-${i}`} class="chip">
                <Icon name="paperclip" /> {file.name} <span class="muted">{formatBytes(file.size)}</span>
                <button type="button" class="chip-remove" aria-label={`Remove ${file.name}`} onClick={() => setFiles(files.filter((_f, j) => j !== i))}>×</button>
              </li>
            ))}
          </ul>
        )}
        {errors.form && <p class="form-error" role="alert">{errors.form}</p>}
        <div class="dialog-actions">
          <span class="dialog-hint muted" role="status" data-testid="draft-state">
            {{ clean: '', dirty: '', saving: 'Saving draft…', saved: 'Draft saved', failed: 'The draft could not be saved; it will be tried again' }[saveState]}
          </span>
          <button type="button" class="button" onClick={() => void discard()}>Discard</button>
          <button type="submit" class="button button-primary" disabled={busy}><Icon name="send" /> {busy ? 'Sending…' : 'Send'}</button>
        </div>
      </form>
    </Dialog>
  );
}
