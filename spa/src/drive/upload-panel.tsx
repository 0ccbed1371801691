/** The uploads in progress: a bar for all of them and one per file, each with a way to cancel. */
import { formatBytes, plural } from '../ui/format';
import { useStore } from '../ui/store';
import { overallProgress, type UploadItem, type UploadQueue } from './upload-queue';

const STATUS_TEXT: Record<UploadItem['status'], string> = {
  queued: 'Waiting', uploading: 'Uploading', done: 'Uploaded', failed: 'Failed', cancelled: 'Cancelled',
};

export function UploadPanel({ queue }: { queue: UploadQueue }) {
  const items = useStore(queue.items);
  if (items.length === 0) return null;
  const { sentBytes, totalBytes } = overallProgress(items);
  const active = items.filter((i) => i.status === 'queued' || i.status === 'uploading').length;
  const done = items.filter((i) => i.status === 'done').length;
  const percent = totalBytes === 0 ? 100 : Math.floor((sentBytes / totalBytes) * 100);
  return (
    <section class="uploads" aria-labelledby="uploads-title">
      <header class="uploads-head">
        <h2 id="uploads-title">
          {active > 0 ? `Uploading ${plural(active, 'file')}` : `${plural(done, 'file')} uploaded`}
        </h2>
        {active === 0 && <button type="button" class="button button-quiet button-small" onClick={() => queue.clearFinished()}>Clear</button>}
      </header>
      <div class="progress-line">
        <progress class="progress" max={100} value={percent} aria-label="All uploads" data-testid="upload-overall" />
        <span class="progress-text">{percent}% · {formatBytes(sentBytes)} of {formatBytes(totalBytes)}</span>
      </div>
      <ul class="upload-list">
        {items.map((item) => <UploadRow key={item.id} item={item} onCancel={() => queue.cancel(item.id)} />)}
      </ul>
    </section>
  );
}

function UploadRow({ item, onCancel }: { item: UploadItem; onCancel: () => void }) {
  const percent = item.sizeBytes === 0 ? (item.status === 'done' ? 100 : 0) : Math.floor((item.sentBytes / item.sizeBytes) * 100);
  const open = item.status === 'queued' || item.status === 'uploading';
  return (
    <li class={`upload upload-${item.status}`} data-upload-name={item.name}>
      <div class="upload-line">
        <span class="upload-name" title={item.name}>{item.name}</span>
        <span class="upload-status">{item.status === 'uploading' ? `${percent}%` : STATUS_TEXT[item.status]}</span>
        {open && <button type="button" class="link-button" onClick={onCancel} aria-label={`Cancel upload of ${item.name}`}>Cancel</button>}
      </div>
      <progress class="progress progress-thin" max={100} value={percent} aria-label={`Upload of ${item.name}`} />
      {item.error && <p class="upload-error" role="alert">{item.error}</p>}
    </li>
  );
}
