/**
 * Facts of the deployment the frontend wrote into the app's page as
 * `<meta name="penncloud-NAME" content="...">` tags.
 */

/** The content of `<meta name="penncloud-NAME">`, or null when absent or empty. */
export function pageMeta(name: string): string | null {
  const tag = document.querySelector<HTMLMetaElement>(`meta[name="penncloud-${name}"]`);
  const value = tag?.content.trim() ?? '';
  return value === '' ? null : value;
}

/**
 * The dispatcher's base URL (no trailing slash). A dispatcher listening on every interface
 * (0.0.0.0, ::) is reached on the host name this page came from.
 */
export function dispatcherUrl(): string | null {
  const value = pageMeta('dispatcher');
  if (value === null) return null;
  try {
    const url = new URL(value);
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = location.hostname;
    return url.origin;
  } catch {
    return null;
  }
}

/** How long the dispatcher keeps sending users to a frontend that stopped answering. */
export function frontendTimeoutMs(): number {
  const value = Number(pageMeta('frontend-timeout-ms'));
  return Number.isFinite(value) && value > 0 ? value : 3_000;
}
