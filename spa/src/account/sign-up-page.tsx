/**
 * Sign up: the API checks the username and password rules and says which one failed; the
 * message shows under that field. A new account is signed in straight away.
 */
import { useState } from 'preact/hooks';
import { signIn, signUp, type User } from '../api/account-api';
import { Field } from '../ui/field';
import { Link } from '../ui/router';
import { AuthLayout } from './auth-layout';
import { placeError, type AccountField } from './field-errors';

const FIELDS: AccountField[] = ['username', 'password'];

export function SignUpPage({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Partial<Record<AccountField | 'confirm' | 'form', string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const missing: typeof errors = {};
    if (username.trim() === '') missing.username = 'Choose a username.';
    if (password === '') missing.password = 'Choose a password.';
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      return;
    }
    if (password !== confirm) {
      setErrors({ confirm: 'The two passwords are not the same.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await signUp(username.trim(), password);
      onSignedIn(await signIn(username.trim(), password));
    } catch (err) {
      const placed = placeError(err, FIELDS);
      setErrors({ [placed.field ?? 'form']: placed.message });
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Create your account" subtitle="One account for mail and a drive of your own.">
      <form class="form" onSubmit={submit} noValidate>
        <Field label="Username" name="username" value={username} onValue={setUsername} error={errors.username}
          hint="3 to 32 characters: lower-case letters, digits, “.”, “_” or “-”, starting with a letter."
          autoComplete="username" autoCapitalize="none" spellcheck={false} autoFocus required />
        <Field label="Password" name="new-password" type="password" value={password} onValue={setPassword}
          error={errors.password} hint="At least 8 characters." autoComplete="new-password" required />
        <Field label="Confirm password" name="confirm-password" type="password" value={confirm} onValue={setConfirm}
          error={errors.confirm} autoComplete="new-password" required />
        {errors.form && <p class="form-error" role="alert">{errors.form}</p>}
        <button type="submit" class="button button-primary button-wide" disabled={busy}>{busy ? 'Creating account…' : 'Create account'}</button>
      </form>
      <p class="auth-switch">Already have an account? <Link href="/signin">Sign in</Link></p>
    </AuthLayout>
  );
}
