/**
 * Sharing a file or folder by link: make a link (optionally expiring, optionally with a
 * password), copy its address, see the links this item already has and revoke them.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import type { DriveEntry } from '../api/drive-api';
import {
  createShare, grantFolder, listGrants, listShares, revokeGrant, revokeShare, shareAddress, type FolderGrant, type ShareLink,
} from '../api/shares-api';
import { Dialog } from '../ui/dialog';
import { Field } from '../ui/field';
import { Icon } from '../ui/icons';
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
  const [grants, setGrants] = useState<FolderGrant[]>([]);
  const [user, setUser] = useState('');
  const [userError, setUserError] = useState<string | null>(null);
  const loadGrants = () => listGrants().then((all) => setGrants(all.filter((g) => g.path === entry.path)), () => undefined);
  useEffect(() => { if (entry.type === 'folder') void loadGrants(); }, []);

  const shareWithUser = async (e: Event) => {
    e.preventDefault();
    setUserError(null);
    try {
      const grant = await grantFolder(entry.path, user);
      toast(`Shared with ${grant.user}: they can see it under “Shared with me”.`);
      setUser('');
      await loadGrants();
    } catch (err) {
      setUserError(describeError(err));
    }
  };
  const unshare = async (grant: FolderGrant) => {
    try {
      await revokeGrant(grant.user, grant.id);
      toast(`${grant.user} no longer has access.`);
      await loadGrants();
    } catch (err) {
      toast(`Could not remove ${grant.user}: ${describeError(err)}`, 'error');
    }
  };

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
      {entry.type === 'folder' && (
        <section class="share-users" aria-label="People with access">
          <h3>Share with people</h3>
          <form class="share-user-form" onSubmit={shareWithUser} noValidate>
            <Field label="Username" name="share-user" value={user} onValue={setUser} error={userError} hint="They can read it, not change it." />
            <button type="submit" class="button">Share</button>
          </form>
          {grants.length > 0 && (
            <ul class="share-links">
              {grants.map((g) => (
                <li key={g.user} class="share-link share-grant">
                  <span><Icon name="user" /> {g.user} <span class="muted">can view</span></span>
                  <button type="button" class="button button-danger-quiet" onClick={() => void unshare(g)} aria-label={`Remove ${g.user}`}>Remove</button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose}>Done</button>
      </div>
    </Dialog>
  );
}
