/** The strip at the top that says the app is finding another server, or cannot reach one. */
import { connection, reconnect } from '../api/reconnect';
import { useStore } from './store';

export function ConnectionBanner() {
  const state = useStore(connection);
  if (state === 'online') return null;
  if (state === 'reconnecting') {
    return (
      <div class="banner banner-warn" role="status" aria-live="assertive">
        <span class="spinner spinner-small" aria-hidden="true" />
        The server stopped answering. Connecting you to another one; you stay signed in…
      </div>
    );
  }
  return (
    <div class="banner banner-error" role="alert">
      PennCloud cannot be reached right now.
      <button type="button" class="button button-small" onClick={() => { connection.set('online'); void reconnect(); }}>Try again</button>
    </div>
  );
}
