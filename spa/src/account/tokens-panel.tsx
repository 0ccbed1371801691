/**
 * The account page's API tokens: make one (its text shown once, with a copy button), see each
 * token's scope and when it was last used, revoke one.
 */
import { useEffect, useState } from 'preact/hooks';
import { createToken, listTokens, revokeToken, type ApiToken, type TokenScope } from '../api/tokens-api';
import { Field } from '../ui/field';
import { formatWhen } from '../ui/format';
import { toast } from '../ui/toasts';

/** Lifetimes offered in the form, in days (null: until revoked). */
const EXPIRY_CHOICES: { label: string; days: number | null }[] = [
  { label: '30 days', days: 30 }, { label: '90 days', days: 90 }, { label: '1 year', days: 365 }, { label: 'No expiry', days: null },
];

export function TokensPanel() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<TokenScope>('read-write');
  const [expiry, setExpiry] = useState('30');
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<{ name: string; secret: string } | null>(null);

  const load = () => listTokens().then((list) => { setTokens(list); setLoadError(null); }, (err: Error) => setLoadError(err.message));
  useEffect(() => { void load(); }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (name.trim() === '') {
      setNameError('Name the token after what will use it, e.g. "backup script".');
      return;
    }
    setNameError(null);
    setBusy(true);
    try {
      const reply = await createToken(name.trim(), scope, expiry === 'never' ? null : Number(expiry));
      setMade({ name: reply.token.name, secret: reply.secret });
      setName('');
      await load();
    } catch (err) {
      setNameError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (token: ApiToken) => {
    try {
      await revokeToken(token.id);
      toast(`Token "${token.name}" revoked.`);
      if (made !== null && made.secret.includes(token.id)) setMade(null);
      await load();
    } catch (err) {
      toast((err as Error).message, 'error');
    }
  };

  const copy = async (secret: string) => {
    try {
      await navigator.clipboard.writeText(secret);
      toast('Token copied.');
    } catch {
      toast('Copying is not allowed here: select the token and copy it by hand.', 'error');
    }
  };

  return (
    <section class="panel" aria-labelledby="account-tokens">
      <h2 id="account-tokens">API tokens</h2>
      <p class="muted">For scripts and <code>curl</code>: <code>curl -u USER:TOKEN -T file …/api/files/file</code>. A token acts as you; a read-only one can only download and list.</p>
      {made !== null && (
        <div class="notice notice-success token-made" role="status">
          <p>Token “{made.name}” is ready. Copy it now: it will not be shown again.</p>
          <p class="token-secret"><code data-testid="token-secret">{made.secret}</code></p>
          <button type="button" class="button" onClick={() => void copy(made.secret)}>Copy</button>
        </div>
      )}
      <form class="form token-form" onSubmit={submit} noValidate>
        <Field label="Token name" name="token-name" value={name} onValue={setName} error={nameError} hint="What will use it." required />
        <div class="field">
          <label for="token-scope">Access</label>
          <select id="token-scope" class="select" value={scope} onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value as TokenScope)}>
            <option value="read-write">Read and write</option>
            <option value="read">Read only</option>
          </select>
        </div>
        <div class="field">
          <label for="token-expiry">Expires</label>
          <select id="token-expiry" class="select" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            {EXPIRY_CHOICES.map((c) => <option key={c.label} value={c.days === null ? 'never' : String(c.days)}>{c.label}</option>)}
          </select>
        </div>
        <button type="submit" class="button button-primary" disabled={busy}>{busy ? 'Making…' : 'Make token'}</button>
      </form>
      {loadError !== null && <p class="form-error" role="alert">{loadError}</p>}
      {tokens !== null && tokens.length === 0 && <p class="muted">No tokens yet.</p>}
      {tokens !== null && tokens.length > 0 && (
        <table class="data-table token-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Access</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.name}</th>
                <td>{t.scope === 'read' ? 'Read only' : 'Read and write'}</td>
                <td>{t.lastUsedMs === null ? 'Never' : formatWhen(t.lastUsedMs)}</td>
                <td>{t.expiresMs === null ? 'Never' : formatWhen(t.expiresMs)}</td>
                <td class="actions"><button type="button" class="button button-danger-quiet" onClick={() => void revoke(t)} aria-label={`Revoke ${t.name}`}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
