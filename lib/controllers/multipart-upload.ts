/**
 * `multipart/form-data` uploads (RFC 7578) read with busboy: each file part is streamed
 * straight into the drive, one after the other, never held in memory. Fields other than files
 * are ignored.
 */
import busboy from 'busboy';
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import type { NodeInfo, Volume } from '../services/storage-service.js';

/** Most files one upload request may carry. */
export const UPLOAD_FILES_MAX = 100;
/** Most non-file fields, and the bytes of each, that busboy reads (and drops). */
export const UPLOAD_FIELDS_MAX = 20;
export const UPLOAD_FIELD_BYTES_MAX = 4096;
/** Most parts of any kind in one request. */
export const UPLOAD_PARTS_MAX = UPLOAD_FILES_MAX + UPLOAD_FIELDS_MAX;

/** Writes every file part of the request body into `folder`; resolves with what was stored. */
export async function receiveMultipart(ctx: RequestContext, volume: Volume, folder: string): Promise<NodeInfo[]> {
  const type = ctx.req.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw new PennError('UNSUPPORTED_MEDIA_TYPE', 'an upload into a folder must be multipart/form-data (or PUT the file itself)');
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': type },
      defParamCharset: 'utf8',
      limits: { files: UPLOAD_FILES_MAX, fields: UPLOAD_FIELDS_MAX, fieldSize: UPLOAD_FIELD_BYTES_MAX, parts: UPLOAD_PARTS_MAX },
    });
  } catch (err) {
    throw new PennError('BAD_REQUEST', `bad multipart request: ${(err as Error).message}`);
  }
  const stored: NodeInfo[] = [];
  let failure: unknown = null;
  let queue = Promise.resolve();
  const body = ctx.req.body;

  const done = new Promise<void>((resolve, reject) => {
    parser.on('file', (_field, stream, info) => {
      queue = queue.then(async () => {
        if (failure !== null || !info.filename) {
          stream.resume();
          return;
        }
        try {
          const name = info.filename.split(/[\\/]/).pop()!;
          const { node } = await volume.writeFile(`${folder}/${name}`, stream, null);
          stored.push(node);
        } catch (err) {
          failure ??= err;
          // Stop reading: the reply goes out now and the connection closes on the unread rest.
          body.unpipe(parser);
          stream.resume();
          reject(err);
        }
      });
    });
    parser.on('filesLimit', () => { failure ??= new PennError('TOO_LARGE', `at most ${UPLOAD_FILES_MAX} files per upload`); });
    parser.on('partsLimit', () => { failure ??= new PennError('TOO_LARGE', `at most ${UPLOAD_PARTS_MAX} parts per upload`); });
    parser.on('error', (err: Error) => reject(new PennError('BAD_REQUEST', `bad multipart body: ${err.message}`)));
    parser.on('close', () => { void queue.then(() => (failure === null ? resolve() : reject(failure))); });
    body.on('error', (err) => {
      parser.destroy(err);
      reject(err);
    });
  });
  body.pipe(parser);
  await done;
  if (stored.length === 0) throw new PennError('BAD_REQUEST', 'the upload carried no file (a part with a filename)');
  return stored;
}
