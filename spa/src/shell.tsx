/** The frame around every signed-in screen: the brand, the main sections and the user's menu. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adminFlag, type User } from './api/account-api';
import { mayAdminister } from './api/admin-api';
import { Icon, type IconName } from './ui/icons';
import { Link, useLocation } from './ui/router';
import { KeyboardHelp } from './ui/keyboard-help';

interface Section {
  href: string;
  label: string;
  icon: IconName;
}

export function Shell({ user, onSignOut, children }: { user: User; onSignOut: () => void; children: ComponentChildren }) {
  const { path } = useLocation();
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    let live = true;
    void mayAdminister(adminFlag(user)).then((may) => { if (live) setAdmin(may); });
    return () => { live = false; };
  }, [user]);
  const sections: Section[] = [
    { href: '/drive', label: 'Drive', icon: 'drive' },
    { href: '/mail/inbox', label: 'Mail', icon: 'mail' },
  ];
  // Only an administrator sees the tab; anyone else who types /admin gets the refusal page, no tab.
  if (admin) sections.push({ href: '/admin', label: 'Admin', icon: 'admin' });
  // The trash belongs to the drive.
  const sectionOf = (p: string) => (['trash', 'shared'].includes(p.split('/')[1] ?? '') ? 'drive' : p.split('/')[1]);
  const active = (href: string) => sectionOf(path) === sectionOf(href);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <Link href="/drive" class="brand" aria-label="PennCloud home">
          <img src="/favicon.svg" alt="" width={26} height={26} />
          <span>PennCloud</span>
        </Link>
        <nav class="sections" aria-label="Sections">
          {sections.map((s) => (
            <Link key={s.href} href={s.href} class={`section-link${active(s.href) ? ' active' : ''}`}
              aria-current={active(s.href) ? 'page' : undefined}>
              <Icon name={s.icon} />
              <span>{s.label}</span>
            </Link>
          ))}
        </nav>
        <div class="user-menu">
          <Link href="/account" class={`user-link${active('/account') ? ' active' : ''}`} aria-label={`Account of ${user.username}`}>
            <span class="avatar" aria-hidden="true">{user.username.slice(0, 1).toUpperCase()}</span>
            <span class="user-name">{user.username}</span>
          </Link>
          <button type="button" class="button button-quiet button-small" onClick={onSignOut}>Sign out</button>
        </div>
      </header>
      {children}
      <KeyboardHelp />
    </div>
  );
}
