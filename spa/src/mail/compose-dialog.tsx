/**
 * Writing a message: new, reply, reply-all or forward (which keeps the original's attachments
 * on the server side). Files attach by picker or by dropping them on the dialog.
 */
import { useRef, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api/api-error';
import { sendMessage } from '../api/mail-api';
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
}

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

  const addFiles = (list: FileList | null | undefined) => setFiles((current) => [...current, ...(list ? [...list] : [])]);

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
      await sendMessage({ to: toList, cc: ccList, subject, text, inReplyTo: seed.inReplyTo, forwardOf: seed.forwardOf, attachments: files });
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
    <Dialog title={seed.title} onClose={onClose} size="large" class="compose">
      <form class={`form compose-form${over ? ' compose-drop' : ''}`} onSubmit={submit} noValidate
        onDragOver={(e) => { if ([...(e.dataTransfer?.types ?? [])].includes('Files')) { e.preventDefault(); setOver(true); } }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); addFiles(e.dataTransfer?.files); }}>
        <Field label="To" name="to" value={to} onValue={setTo} error={errors.to} autoComplete="email" hint="Separate addresses with commas." autoFocus={seed.to === ''} />
        <Field label="Cc" name="cc" value={cc} onValue={setCc} error={errors.cc} autoComplete="email" />
        <Field label="Subject" name="subject" value={subject} onValue={setSubject} />
        <div class="field">
          <label for="compose-text">Message</label>
          <textarea id="compose-text" class="textarea compose-text" rows={10} value={text}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} autoFocus={seed.to !== ''} />
        </div>
        <div class="attachments-edit">
          <button type="button" class="button button-small" onClick={() => picker.current?.click()}>
            <Icon name="paperclip" /> Attach files
          </button>
          <span class="muted">or drop them here</span>
          <input ref={picker} type="file" multiple class="visually-hidden" tabIndex={-1} aria-hidden="true" data-testid="attach-input"
            onChange={(e) => { addFiles((e.currentTarget as HTMLInputElement).files); (e.currentTarget as HTMLInputElement).value = ''; }} />
        </div>
        {(files.length > 0 || (seed.carried?.length ?? 0) > 0) && (
          <ul class="chips" aria-label="Attachments">
            {seed.carried?.map((name) => <li key={`carried-${name}`} class="chip"><Icon name="paperclip" /> {name} <span class="muted">(from the original)</span></li>)}
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
          <button type="button" class="button" onClick={onClose}>Discard</button>
          <button type="submit" class="button button-primary" disabled={busy}><Icon name="send" /> {busy ? 'Sending…' : 'Send'}</button>
        </div>
      </form>
    </Dialog>
  );
}
