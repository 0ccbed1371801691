/**
 * Previewing a file in place: images, audio and video (which seek, since the API answers byte
 * ranges), PDF in the browser's viewer, and the start of a text file. Everything else offers a
 * download.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import { fileUrl, readTextStart, type DriveEntry } from '../api/drive-api';
import { Dialog } from '../ui/dialog';
import { formatBytes, formatFullTime } from '../ui/format';
import { Icon } from '../ui/icons';
import { Loading } from '../ui/states';
import { fileKind } from './file-kind';

/** Bytes of a text file shown in the preview. */
export const TEXT_PREVIEW_BYTES_MAX = 256 * 1024;

export function PreviewDialog({ entry, onClose }: { entry: DriveEntry; onClose: () => void }) {
  const kind = fileKind(entry.name);
  const url = fileUrl(entry.path, true);
  return (
    <Dialog title={entry.name} onClose={onClose} size="large" class="preview-dialog">
      <div class={`preview preview-${kind}`}>
        {kind === 'image' && <img src={url} alt={entry.name} />}
        {kind === 'audio' && <audio src={url} controls preload="metadata" aria-label={entry.name} />}
        {kind === 'video' && <video src={url} controls preload="metadata" aria-label={entry.name} />}
        {kind === 'pdf' && <iframe src={url} title={entry.name} />}
        {kind === 'text' && <TextPreview entry={entry} />}
        {kind === 'other' && (
          <div class="state state-empty">
            <Icon name="file" class="state-icon" />
            <p>There is no preview for this kind of file.</p>
          </div>
        )}
      </div>
      <div class="dialog-actions">
        <span class="dialog-hint muted">{formatBytes(entry.size)} · modified {formatFullTime(entry.modifiedMs)}</span>
        <a class="button button-primary" href={fileUrl(entry.path)} download={entry.name}>
          <Icon name="download" /> Download
        </a>
      </div>
    </Dialog>
  );
}

function TextPreview({ entry }: { entry: DriveEntry }) {
  const [state, setState] = useState<{ text: string; truncated: boolean } | { error: string } | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    if (entry.size === 0) {
      setState({ text: '', truncated: false });
      return;
    }
    readTextStart(entry.path, TEXT_PREVIEW_BYTES_MAX, abort.signal).then(setState, (err: unknown) => {
      if (!abort.signal.aborted) setState({ error: describeError(err) });
    });
    return () => abort.abort();
  }, [entry.path, entry.size]);
  if (state === null) return <Loading />;
  if ('error' in state) return <p class="form-error" role="alert">{state.error}</p>;
  return (
    <>
      <pre class="text-preview" tabIndex={0} aria-label={`Contents of ${entry.name}`}>{state.text || '(This file is empty.)'}</pre>
      {state.truncated && <p class="muted">Showing the first {formatBytes(TEXT_PREVIEW_BYTES_MAX)}. Download the file to see all of it.</p>}
    </>
  );
}
