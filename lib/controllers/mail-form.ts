/**
 * The compose form of the webmail as multipart/form-data (RFC 7578): fields `to`, `cc`
 * (comma-separated or repeated), `subject`, `text`, `html`, `inReplyTo`, `forwardOf`, and any
 * number of file parts as attachments. Attachments are held in memory, bounded by the largest
 * message the service would send anyway.
 */
import busboy from 'busboy';
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import type { SendRequest } from '../services/mail-service.js';

/** Form fields read at most, and bytes per field (a long text body fits). */
const FIELDS_MAX = 64;
const FIELD_BYTES_MAX = 2 * 1024 * 1024;
/** Attachments per message. */
export const ATTACHMENTS_MAX = 50;

/** Reads the form into a send request; TOO_LARGE past `bytesMax` of attachments. */
export function readMailForm(ctx: RequestContext, bytesMax: number): Promise<SendRequest> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string[]>();
    const attachments: SendRequest['attachments'] = [];
    let total = 0;
    let failed: Error | null = null;
    const fail = (err: Error): void => {
      if (failed === null) failed = err;
      ctx.req.body.unpipe(parser);
      ctx.req.body.resume();
      reject(err);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': ctx.req.headers.get('content-type') ?? '' },
        // Browsers send a file name as raw UTF-8 in filename= (WHATWG HTML, RFC 7578 §4.2);
        // busboy's default would read those bytes as Latin-1.
        defParamCharset: 'utf8',
        limits: { fields: FIELDS_MAX, fieldSize: FIELD_BYTES_MAX, files: ATTACHMENTS_MAX, fileSize: bytesMax },
      });
    } catch (err) {
      reject(new PennError('BAD_REQUEST', `not a multipart form: ${(err as Error).message}`));
      return;
    }
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new PennError('TOO_LARGE', `the field ${name} is longer than ${FIELD_BYTES_MAX} bytes`));
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > bytesMax) {
          stream.resume();
          fail(new PennError('TOO_LARGE', `attachments larger than ${bytesMax} bytes in all cannot be sent`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (failed !== null || info.filename === undefined || info.filename === '') return;
        attachments.push({ filename: info.filename, contentType: info.mimeType || 'application/octet-stream', content: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => fail(new PennError('TOO_LARGE', `at most ${ATTACHMENTS_MAX} attachments`)));
    parser.on('error', (err: Error) => fail(new PennError('BAD_REQUEST', `the form is malformed: ${err.message}`)));
    parser.on('close', () => {
      if (failed !== null) return;
      const one = (name: string): string | undefined => fields.get(name)?.[0];
      const list = (name: string): string[] => (fields.get(name) ?? []).flatMap(splitAddresses);
      resolve({
        to: list('to'),
        cc: list('cc'),
        subject: one('subject') ?? '',
        text: one('text') ?? '',
        ...(one('html') === undefined ? {} : { html: one('html')! }),
        ...(one('inReplyTo') ? { inReplyTo: one('inReplyTo')! } : {}),
        ...(one('forwardOf') ? { forwardOf: one('forwardOf')! } : {}),
        attachments,
      });
    });
    ctx.req.body.on('error', (err: Error) => fail(err));
    ctx.req.body.pipe(parser);
  });
}

/** "a@x, B <b@y>" -> ["a@x", "B <b@y>"], commas inside quotes kept. */
export function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}
