/** The account screen: who is signed in, changing the password (other sessions end), API tokens. */
import { useState } from 'preact/hooks';
import { changePassword, type User } from '../api/account-api';
import { Field } from '../ui/field';
import { formatFullTime } from '../ui/format';
import { toast } from '../ui/toasts';
import { placeError, type AccountField } from './field-errors';
import { TokensPanel } from './tokens-panel';

const FIELDS: AccountField[] = ['oldPassword', 'newPassword'];

export function AccountPage({ user }: { user: User }) {
  const [oldPassword, setOldPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Partial<Record<AccountField | 'confirm' | 'form', string>>>({});
  const [busy, setBusy] = useState(false);
  const [changed, setChanged] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (newPassword !== confirm) {
      setErrors({ confirm: 'The two new passwords are not the same.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await changePassword(oldPassword, newPassword);
      setOldPassword('');
      setNewPassword('');
      setConfirm('');
      setChanged(true);
      toast('Password changed.');
    } catch (err) {
      const placed = placeError(err, FIELDS);
      setErrors({ [placed.field ?? 'form']: placed.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page page-narrow" id="main">
      <header class="page-head">
        <h1>Account</h1>
      </header>
      <section class="panel" aria-labelledby="account-who">
        <h2 id="account-who">Signed in as</h2>
        <p class="account-name">{user.username}</p>
        {user.createdMs !== undefined && <p class="muted">Member since {formatFullTime(user.createdMs)}</p>}
      </section>
      <section class="panel" aria-labelledby="account-password">
        <h2 id="account-password">Change password</h2>
        <p class="muted">Other open sessions end when you change it; this one stays signed in.</p>
        {changed && <p class="notice notice-success" role="status">Your password was changed.</p>}
        <form class="form" onSubmit={submit} noValidate>
          <Field label="Current password" name="current-password" type="password" value={oldPassword}
            onValue={setOldPassword} error={errors.oldPassword} autoComplete="current-password" required />
          <Field label="New password" name="new-password" type="password" value={newPassword}
            onValue={setNewPassword} error={errors.newPassword} hint="At least 8 characters." autoComplete="new-password" required />
          <Field label="Confirm new password" name="confirm-password" type="password" value={confirm}
            onValue={setConfirm} error={errors.confirm} autoComplete="new-password" required />
          {errors.form && <p class="form-error" role="alert">{errors.form}</p>}
          <button type="submit" class="button button-primary" disabled={busy}>{busy ? 'Changing…' : 'Change password'}</button>
        </form>
      </section>
      <TokensPanel />
    </main>
  );
}
