/**
 * Going back through the dispatcher when this page's frontend stops answering.
 *
 * Frontends are stateless and the session cookie is sent to every frontend of the host (cookies
 * are not port-scoped), so the user stays signed in: the app only has to load again from a live
 * frontend. It waits until the dispatcher has had time to forget the silent frontend (its
 * frontend timeout), checks that the dispatcher leads somewhere, and then navigates to the
 * dispatcher at the same in-app path. What the user was doing rides along in the URL's fragment
 * (browsers keep a fragment across redirects, and servers never see it) and is finished on the
 * other side: see `takeResumeAction`.
 */
import { createStore } from '../ui/store';
import { dispatcherUrl, frontendTimeoutMs } from './page-meta';

/** Something the user asked for when the frontend went away, to finish after reconnecting. */
export type ResumeAction =
  | { kind: 'mkdir'; path: string }
  | { kind: 'move'; from: string; to: string }
  | { kind: 'delete'; path: string; recursive: boolean }
  | { kind: 'draft'; draft: { to: string; cc: string; subject: string; text: string } }
  | { kind: 'notice'; text: string };

export type ConnectionState = 'online' | 'reconnecting' | 'unreachable';

/** What the banner at the top shows. */
export const connection = createStore<ConnectionState>('online');

/** How long the app keeps looking for a live frontend before it asks the user to retry. */
export const RECONNECT_WAIT_MS_MAX = 60_000;
/** Pause between probes of the dispatcher. */
const PROBE_INTERVAL_MS = 500;
/** A small file every frontend serves, asked of the dispatcher to test the way through it. */
const PROBE_PATH = '/favicon.svg';
/** Longest wait for one probe. */
const PROBE_TIMEOUT_MS = 3_000;
/** Margin over the dispatcher's frontend timeout, for heartbeats in flight. */
const FORGET_MARGIN_MS = 750;
/** Longest fragment the app writes (browsers take far more; a draft rarely needs more). */
const RESUME_CHARS_MAX = 64 * 1024;
const RESUME_PREFIX = '#resume=';

let reconnecting = false;
/** What to finish over there; a later failed action replaces it (a failed read carries none). */
let pendingResume: ResumeAction | undefined;

/**
 * Finds a live frontend through the dispatcher and loads the app there, carrying `resume`.
 * Never resolves when it succeeds (the page goes away).
 */
export async function reconnect(resume?: ResumeAction): Promise<void> {
  if (resume !== undefined) pendingResume = resume;
  if (reconnecting) return;
  const dispatcher = dispatcherUrl();
  if (dispatcher === null) {
    connection.set('unreachable');
    return;
  }
  reconnecting = true;
  connection.set('reconnecting');
  const startedMs = Date.now();
  const forgetAfterMs = frontendTimeoutMs() + FORGET_MARGIN_MS;
  try {
    while (Date.now() - startedMs < RECONNECT_WAIT_MS_MAX) {
      const waitedEnough = Date.now() - startedMs >= forgetAfterMs;
      if (waitedEnough && (await dispatcherLeadsToFrontend(dispatcher))) {
        location.assign(dispatcher + location.pathname + location.search + resumeFragment(pendingResume));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
    connection.set('unreachable');
  } finally {
    reconnecting = false;
  }
}

/**
 * True when the dispatcher sends a request on to a frontend that answers. Another origin's
 * replies are opaque to scripts, but an image is not: the app's icon, asked of the dispatcher,
 * loads only if the redirect reached a live frontend (a 503 page or a refused connection fails).
 */
function dispatcherLeadsToFrontend(dispatcher: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = new Image();
    const timer = setTimeout(() => finish(false), PROBE_TIMEOUT_MS);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      probe.onload = probe.onerror = null;
      resolve(ok);
    };
    probe.onload = () => finish(true);
    probe.onerror = () => finish(false);
    probe.src = `${dispatcher}${PROBE_PATH}?probe=${Date.now()}`;
  });
}

function resumeFragment(resume: ResumeAction | undefined): string {
  if (resume === undefined) return '';
  const text = RESUME_PREFIX + encodeURIComponent(JSON.stringify(resume));
  return text.length <= RESUME_CHARS_MAX ? text : '';
}

/** The action carried here by `reconnect`, removed from the address bar so it runs once. */
export function takeResumeAction(): ResumeAction | null {
  if (!location.hash.startsWith(RESUME_PREFIX)) return null;
  const raw = location.hash.slice(RESUME_PREFIX.length);
  history.replaceState(history.state, '', location.pathname + location.search);
  try {
    const value = JSON.parse(decodeURIComponent(raw)) as ResumeAction;
    return typeof value === 'object' && value !== null && typeof value.kind === 'string' ? value : null;
  } catch {
    return null;
  }
}
