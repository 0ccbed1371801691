/**
 * The app: finds out who is signed in, then shows the screen the address names. Signed-out
 * users see sign-in (or sign-up) whatever the address, and land where they were going after.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { currentUser, signOut, type User } from './api/account-api';
import { describeError } from './api/api-error';
import { sessionEnded } from './api/http';
import { takeResumeAction, type ResumeAction } from './api/reconnect';
import { AccountPage } from './account/account-page';
import { SignInPage } from './account/sign-in-page';
import { SignUpPage } from './account/sign-up-page';
import { AdminPage } from './admin/admin-page';
import { DrivePage } from './drive/drive-page';
import { TrashPage } from './drive/trash-page';
import { SharedPage } from './drive/shared-page';
import { SharedWithMePage } from './drive/shared-with-me-page';
import { MailPage } from './mail/mail-page';
import { runResumeAction } from './resume-runner';
import { Shell } from './shell';
import { ConnectionBanner } from './ui/connection-banner';
import { navigate, useLocation } from './ui/router';
import { ErrorState, Loading } from './ui/states';
import { useStore } from './ui/store';
import { clearToasts, ToastRegion } from './ui/toasts';
import { inboxUnread } from './mail/unread-store';

const AUTH_PATHS = new Set(['/signin', '/signup']);

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [resume, setResume] = useState<ResumeAction | null>(() => takeResumeAction());
  const ended = useStore(sessionEnded);
  const { path } = useLocation();

  const load = useCallback(() => {
    setLoadError(null);
    currentUser().then(setUser, (err: unknown) => setLoadError(describeError(err)));
  }, []);
  useEffect(load, [load]);

  useEffect(() => {
    if (ended && user) setUser(null);
  }, [ended, user]);

  // The action carried from a frontend that went away is finished before any screen loads,
  // so the screen shows its result.
  useEffect(() => {
    if (user && resume) void runResumeAction(resume).finally(() => setResume(null));
  }, [user, resume]);

  const unread = useStore(inboxUnread);
  useEffect(() => {
    document.title = titleFor(path, unread);
  }, [path, unread]);

  const onSignedIn = useCallback((signedIn: User) => {
    sessionEnded.set(false);
    setUser(signedIn);
    const next = new URLSearchParams(location.search).get('next');
    if (AUTH_PATHS.has(location.pathname)) navigate(next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/drive', { replace: true });
  }, []);

  const onSignOut = useCallback(async () => {
    try {
      await signOut();
    } finally {
      clearToasts();
      inboxUnread.set(null);
      setUser(null);
      navigate('/signin', { replace: true });
    }
  }, []);

  let screen;
  const shared = /^\/s\/([A-Za-z0-9_-]+)$/.exec(path);
  if (shared !== null) {
    // A share link is for anyone, signed in or not.
    screen = <SharedPage token={shared[1]!} />;
  } else if (loadError !== null) {
    screen = <main class="page" id="main"><ErrorState title="PennCloud could not start" message={loadError} onRetry={load} /></main>;
  } else if (user === undefined || (user !== null && resume !== null)) {
    screen = <main class="page" id="main"><Loading /></main>;
  } else if (user === null) {
    screen = path === '/signup'
      ? <SignUpPage onSignedIn={onSignedIn} />
      : <SignInPage onSignedIn={onSignedIn} notice={ended ? 'Your session ended. Sign in again to carry on.' : null} />;
  } else {
    screen = <Shell user={user} onSignOut={onSignOut}><SignedInScreen user={user} path={path} /></Shell>;
  }
  return (
    <>
      <ConnectionBanner />
      {screen}
      <ToastRegion />
    </>
  );
}

function SignedInScreen({ user, path }: { user: User; path: string }) {
  useEffect(() => {
    if (path === '/' || AUTH_PATHS.has(path)) navigate('/drive', { replace: true });
    else if (path === '/mail' || path === '/mail/') navigate('/mail/inbox', { replace: true });
  }, [path]);
  const section = path.split('/')[1];
  if (section === 'drive') return <DrivePage path={path} />;
  if (path === '/trash') return <TrashPage />;
  if (path === '/shared') return <SharedWithMePage />;
  if (section === 'mail') return <MailPage path={path} user={user} />;
  if (section === 'admin') return <AdminPage />;
  if (path === '/account') return <AccountPage user={user} />;
  if (path === '/' || AUTH_PATHS.has(path)) return <main class="page" id="main"><Loading /></main>;
  return (
    <main class="page" id="main">
      <ErrorState title="There is nothing here" message={`No screen has the address ${path}.`} />
    </main>
  );
}

/** The tab's title: the section, and in Mail the Inbox's unread count, as mail apps show it. */
function titleFor(path: string, unread: number | null): string {
  const section = path.split('/')[1] ?? '';
  const names: Record<string, string> = {
    drive: 'Drive', trash: 'Trash', shared: 'Shared with me', mail: 'Mail', admin: 'Admin console', account: 'Account', signin: 'Sign in', signup: 'Create account',
  };
  if (section === 'mail' && unread !== null && unread > 0) return `Mail (${unread}) · PennCloud`;
  return names[section] ? `${names[section]} · PennCloud` : 'PennCloud';
}
