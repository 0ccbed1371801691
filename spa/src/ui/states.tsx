/** What a screen shows while it loads, when it is empty, and when it failed. */
import type { ComponentChildren } from 'preact';
import { Icon, type IconName } from './icons';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ icon, title, children }: { icon: IconName; title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <Icon name={icon} class="state-icon" />
      <h3>{title}</h3>
      {children && <div class="state-text">{children}</div>}
    </div>
  );
}

export function ErrorState({ title, message, onRetry }: { title: string; message: string; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <h3>{title}</h3>
      <p>{message}</p>
      {onRetry && <button type="button" class="button" onClick={onRetry}>Try again</button>}
    </div>
  );
}
