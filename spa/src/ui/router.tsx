/**
 * In-app navigation on the History API: the address bar always names the screen
 * (/drive/Photos, /mail/inbox/<id>, /admin), so reload, back and forward work and any screen can
 * be linked to. The frontend answers every such path with the app's page.
 */
import type { ComponentChildren, JSX } from 'preact';
import { createStore, useStore } from './store';

export interface Location {
  path: string;
  search: string;
}

const current = createStore<Location>(readLocation());

function readLocation(): Location {
  return { path: location.pathname, search: location.search };
}

window.addEventListener('popstate', () => current.set(readLocation()));

/** Goes to an in-app path (with an optional query), adding a history entry unless `replace`. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  current.set(readLocation());
  window.scrollTo(0, 0);
}

/** The current in-app location. */
export function useLocation(): Location {
  return useStore(current);
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href' | 'onClick'> & {
  href: string;
  children?: ComponentChildren;
  /** Runs before the app navigates (it may not cancel the navigation). */
  onClick?: () => void;
};

/** An anchor that navigates in the app (a modified click still opens a new tab). */
export function Link({ href, children, onClick: before, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    before?.();
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={onClick} {...rest}>{children}</a>;
}
