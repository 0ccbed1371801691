/**
 * What a share link shows a visitor, signed in or not: a file (with a preview for images,
 * video, audio and text, and a download), or a folder to browse inside and download from; a
 * password form first when the link has one.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/api-error';
import type { DriveEntry } from '../api/drive-api';
import { childPath, parentPath } from '../api/drive-path';
import { isApiError } from '../api/http';
import { openShare, sharedFileUrl, unlockShare, type SharedView } from '../api/shares-api';
import { Field } from '../ui/field';
import { formatBytes, formatWhen } from '../ui/format';
import { Icon } from '../ui/icons';
import { ErrorState, Loading } from '../ui/states';
import { fileKind, kindIcon } from './file-kind';

export function SharedPage({ token }: { token: string }) {
  const [path, setPath] = useState('/');
  const [view, setView] = useState<SharedView | null>(null);
  const [state, setState] = useState<'loading' | 'locked' | 'gone' | 'ready' | 'error'>('loading');
  const [message, setMessage] = useState('');
  const [password, setPassword] = useState('');
  const [passwordError, setPasswordError] = useState<string | null>(null);

  const load = useCallback(async (at: string) => {
    try {
      setView(await openShare(token, at));
      setPath(at);
      setState('ready');
    } catch (err) {
      if (isApiError(err, 'UNAUTHENTICATED', 'SHARE_LOCKED')) setState('locked');
      else if (isApiError(err, 'NOT_FOUND')) { setState('gone'); setMessage(describeError(err)); }
      else { setState('error'); setMessage(describeError(err)); }
    }
  }, [token]);
  useEffect(() => { void load('/'); }, [load]);

  const unlock = async (e: Event) => {
    e.preventDefault();
    setPasswordError(null);
    try {
      await unlockShare(token, password);
      await load('/');
    } catch (err) {
      setPasswordError(describeError(err));
    }
  };

  let body;
  if (state === 'loading') body = <Loading label="Opening the link…" />;
  else if (state === 'gone') body = <ErrorState title="This link does not work" message={message} />;
  else if (state === 'error') body = <ErrorState title="The link could not be opened" message={message} onRetry={() => void load(path)} />;
  else if (state === 'locked') {
    body = (
      <section class="panel">
        <h2>This link is protected</h2>
        <form class="form" onSubmit={unlock} noValidate>
          <Field label="Password" name="share-password" type="password" value={password} onValue={setPassword} error={passwordError} autoComplete="off" required />
          <button type="submit" class="button button-primary">Open</button>
        </form>
      </section>
    );
  } else if (view?.file) {
    body = <SharedFile file={view.file} url={(inline) => sharedFileUrl(token, '/', inline)} />;
  } else if (view?.folder) {
    body = <SharedFolder path={path} entries={view.entries ?? []} onOpen={(p) => void load(p)} url={(p) => sharedFileUrl(token, p)} />;
  }
  return (
    <main class="page page-narrow shared-page" id="main">
      <header class="page-head">
        <h1>{view?.share.name ?? 'Shared with you'}</h1>
        {view?.share.expiresMs != null && <p class="muted">This link works until {formatWhen(view.share.expiresMs)}.</p>}
        {view?.folder && path !== '/' && <p class="muted">{path}</p>}
      </header>
      {body}
      <p class="muted shared-brand"><img src="/favicon.svg" alt="" width={18} height={18} /> Shared through PennCloud</p>
    </main>
  );
}

/** A shared folder's entries: folders open in place (`onOpen`), files download from `url`. */
export function SharedFolder({ path, entries, onOpen, url }: { path: string; entries: DriveEntry[]; onOpen: (path: string) => void; url: (path: string) => string }) {
  return (
    <section class="panel">
      {path !== '/' && <button type="button" class="button" onClick={() => onOpen(parentPath(path))}><Icon name="back" /> Up</button>}
      {entries.length === 0 && <p class="muted">This folder is empty.</p>}
      <ul class="shared-entries">
        {entries.map((entry: DriveEntry) => (
          <li key={entry.id} data-entry-name={entry.name}>
            <Icon name={entry.type === 'folder' ? 'folder' : kindIcon(fileKind(entry.name))} />
            {entry.type === 'folder'
              ? <button type="button" class="link-button" onClick={() => onOpen(childPath(path, entry.name))}>{entry.name}</button>
              : <a href={url(entry.path)} download={entry.name}>{entry.name}</a>}
            <span class="muted">{entry.type === 'folder' ? '' : formatBytes(entry.size)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function SharedFile({ file, url }: { file: DriveEntry; url: (inline: boolean) => string }) {
  const kind = fileKind(file.name);
  const inline = url(true);
  return (
    <section class="panel shared-file">
      <p><Icon name={kindIcon(kind)} /> <strong class="break">{file.name}</strong> <span class="muted">{formatBytes(file.size)}</span></p>
      {kind === 'image' && <img class="shared-preview" src={inline} alt={file.name} />}
      {kind === 'video' && <video class="shared-preview" src={inline} controls preload="metadata" />}
      {kind === 'audio' && <audio src={inline} controls preload="metadata" />}
      <a class="button button-primary" href={url(false)} download={file.name}><Icon name="download" /> Download</a>
    </section>
  );
}
