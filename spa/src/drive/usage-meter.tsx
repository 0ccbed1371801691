/** How much of the user's quota the drive uses. */
import type { Usage } from '../api/drive-api';
import { formatBytes } from '../ui/format';

export function UsageMeter({ usage }: { usage: Usage }) {
  const percent = usage.quotaBytes === 0 ? 100 : Math.min(100, Math.round((usage.usedBytes / usage.quotaBytes) * 100));
  return (
    <div class="usage">
      <progress class={`progress progress-thin${percent >= 90 ? ' progress-warn' : ''}`} max={100} value={percent} aria-label="Storage used" />
      <span>{formatBytes(usage.usedBytes)} of {formatBytes(usage.quotaBytes)} used</span>
    </div>
  );
}
