/** Sign in: username and password; a wrong pair or a throttled account shows above the button. */
import { useState } from 'preact/hooks';
import { signIn, type User } from '../api/account-api';
import { Field } from '../ui/field';
import { Link } from '../ui/router';
import { AuthLayout } from './auth-layout';
import { placeError, type AccountField } from './field-errors';

const FIELDS: AccountField[] = ['username', 'password'];

export function SignInPage({ onSignedIn, notice }: { onSignedIn: (user: User) => void; notice?: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<AccountField | 'form', string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const missing: typeof errors = {};
    if (username.trim() === '') missing.username = 'Enter your username.';
    if (password === '') missing.password = 'Enter your password.';
    setErrors(missing);
    if (Object.keys(missing).length > 0) return;
    setBusy(true);
    try {
      onSignedIn(await signIn(username.trim(), password));
    } catch (err) {
      const placed = placeError(err, FIELDS);
      setErrors({ [placed.field ?? 'form']: placed.message });
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to reach your mail and drive.">
      {notice && <p class="notice" role="status">{notice}</p>}
      <form class="form" onSubmit={submit} noValidate>
        <Field label="Username" name="username" value={username} onValue={setUsername} error={errors.username}
          autoComplete="username" autoCapitalize="none" spellcheck={false} autoFocus required />
        <Field label="Password" name="password" type="password" value={password} onValue={setPassword}
          error={errors.password} autoComplete="current-password" required />
        {errors.form && <p class="form-error" role="alert">{errors.form}</p>}
        <button type="submit" class="button button-primary button-wide" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p class="auth-switch">New to PennCloud? <Link href="/signup">Create an account</Link></p>
    </AuthLayout>
  );
}
