/**
 * Sharing a file or folder by link: make a link (optionally expiring, optionally with a
 * password), copy its address, see the links this item already has and revoke them.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import type { DriveEntry } from '../api/drive-api';
import { createShare, listShares, revokeShare, shareAddress, type ShareLink } from '../api/shares-api';
import { Dialog } from '../ui/dialog';
import { Field } from '../ui/field';
import { formatWhen } from '../ui/format';
import { toast } from '../ui/toasts';

/** Lifetimes offered, in days (null: until revoked). */
const EXPIRY_CHOICES: { label: string; days: number | null }[] = [
  { label: 'Never', days: null }, { label: '1 day', days: 1 }, { label: '7 days', days: 7 }, { label: '30 days', days: 30 },
];

export function ShareDialog({ entry, onClose }: { entry: DriveEntry; onClose: () => void }) {
  const [links, setLinks] = useState<ShareLink[] | null>(null);
  const [expiry, setExpiry] = useState('never');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () => listShares().then(
    (all) => setLinks(all.filter((l) => l.path === entry.path)),
    (err: unknown) => setError(describeError(err)),
  );
  useEffect(() => { void load(); }, []);

  const make = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const link = await createShare(entry.path, expiry === 'never' ? null : Number(expiry), password === '' ? null : password);
      setPassword('');
      await copy(link);
      await load();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const copy = async (link: ShareLink) => {
    try {
      await navigator.clipboard.writeText(shareAddress(link));
      toast('Link copied.');
    } catch {
      toast('The link is below: select it and copy it by hand.');
    }
  };

  const revoke = async (link: ShareLink) => {
    try {
      await revokeShare(link.token);
      toast('Link revoked: it no longer works.');
      await load();
    } catch (err) {
      toast(`Could not revoke the link: ${describeError(err)}`, 'error');
    }
  };

  return (
    <Dialog title={`Share “${entry.name}”`} onClose={onClose}>
      <p class="muted">Anyone with the link can {entry.type === 'folder' ? 'see and download what is in this folder' : 'download this file'}, without an account.</p>
      <form class="form" onSubmit={make} noValidate>
        <div class="field">
          <label for="share-expiry">Link expires</label>
          <select id="share-expiry" class="select" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            {EXPIRY_CHOICES.map((c) => <option key={c.label} value={c.days === null ? 'never' : String(c.days)}>{c.label}</option>)}
          </select>
        </div>
        <Field label="Password (optional)" name="share-password" type="password" value={password} onValue={setPassword}
          hint="Visitors must type it before they see anything." autoComplete="new-password" />
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="button button-primary" disabled={busy}>{busy ? 'Making…' : 'Create link'}</button>
      </form>
      {links !== null && links.length > 0 && (
        <ul class="share-links" aria-label="Links to this item">
          {links.map((link) => (
            <li key={link.token} class="share-link">
              <input class="share-address" readOnly value={shareAddress(link)} aria-label="Link address" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
              <span class="muted">
                {link.hasPassword ? 'Password · ' : ''}{link.expiresMs === null ? 'No expiry' : `Expires ${formatWhen(link.expiresMs)}`}
              </span>
              <span class="share-link-actions">
                <button type="button" class="button" onClick={() => void copy(link)}>Copy</button>
                <button type="button" class="button button-danger-quiet" onClick={() => void revoke(link)}>Revoke</button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose}>Done</button>
      </div>
    </Dialog>
  );
}
