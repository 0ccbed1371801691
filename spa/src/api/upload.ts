/**
 * Uploading one file with progress: a raw `PUT /api/files/<path>` through XMLHttpRequest,
 * whose upload events (unlike fetch's) report the bytes sent so far. The body streams from the
 * file, so its size does not matter to the browser.
 */
import { ApiError, apiErrorFrom, NetworkError } from './api-error';
import type { DriveEntry } from './drive-api';
import { encodePath } from './drive-path';
import { REQUEST_MARK, sessionEnded } from './http';

export interface UploadHandle {
  /** Resolves with the stored file; rejects with ApiError, NetworkError or an AbortError. */
  done: Promise<DriveEntry>;
  abort(): void;
}

/** Starts the upload of `file` to `path`; `onProgress` gets bytes sent and the total. */
export function uploadFile(path: string, file: Blob, onProgress: (sentBytes: number, totalBytes: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<DriveEntry>((resolve, reject) => {
    xhr.open('PUT', `/api/files${encodePath(path)}`);
    for (const [name, value] of Object.entries(REQUEST_MARK)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve((JSON.parse(xhr.responseText) as { file: DriveEntry }).file);
        return;
      }
      const error: ApiError = apiErrorFrom(xhr.status, xhr.responseText);
      if (error.status === 401) sessionEnded.set(true);
      reject(error);
    };
    xhr.onerror = () => reject(new NetworkError('The server stopped answering during the upload.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
