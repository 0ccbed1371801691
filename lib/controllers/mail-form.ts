/**
 * The compose form of the webmail as multipart/form-data (RFC 7578): fields `to`, `cc`
 * (comma-separated or repeated), `subject`, `text`, `html`, `inReplyTo`, `forwardOf`, and any
 * number of file parts as attachments. Attachments are streamed into the store as they arrive
 * (staged by the mail service), never held in memory.
 */
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import type { SendRequest } from '../services/mail-service.js';
import type { StagedAttachment } from '../services/mail-staging.js';

/** Form fields read at most, and bytes per field (a long text body fits). */
const FIELDS_MAX = 64;
const FIELD_BYTES_MAX = 2 * 1024 * 1024;
/** Attachments per message. */
export const ATTACHMENTS_MAX = 50;

/** Where the form's file parts go as they arrive: the store's staging of the mail service. */
export interface AttachmentStager {
  stage(source: AsyncIterable<Uint8Array>): Promise<StagedAttachment>;
  open(staged: StagedAttachment): () => Readable;
  discard(staged: readonly StagedAttachment[]): Promise<void>;
}

/** A send request read from a form, with the attachments it staged (to discard after the send). */
export interface MailForm {
  request: SendRequest;
  staged: StagedAttachment[];
}

/**
 * Reads the form into a send request. Each file part streams into the store (staged, one after
 * the other, as the drive's uploads do), so no attachment is held in memory; TOO_LARGE past
 * `bytesMax` of attachments in all. On any failure what was staged is discarded.
 */
export async function readMailForm(ctx: RequestContext, bytesMax: number, stager: AttachmentStager): Promise<MailForm> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': ctx.req.headers.get('content-type') ?? '' },
      // Browsers send a file name as raw UTF-8 in filename= (WHATWG HTML, RFC 7578 §4.2);
      // busboy's default would read those bytes as Latin-1.
      defParamCharset: 'utf8',
      limits: { fields: FIELDS_MAX, fieldSize: FIELD_BYTES_MAX, files: ATTACHMENTS_MAX },
    });
  } catch (err) {
    throw new PennError('BAD_REQUEST', `not a multipart form: ${(err as Error).message}`);
  }
  const fields = new Map<string, string[]>();
  const attachments: SendRequest['attachments'] = [];
  const staged: StagedAttachment[] = [];
  let total = 0;
  let failure: unknown = null;
  let queue = Promise.resolve();
  const body = ctx.req.body;
  /** The file part being staged now: a failure elsewhere stops it, so its staging ends too. */
  let current: Readable | null = null;
  const done = new Promise<void>((resolve, reject) => {
    const fail = (err: unknown): void => {
      failure ??= err;
      current?.destroy(err as Error);
      // Stop reading: the reply goes out now and the connection closes on the unread rest.
      body.unpipe(parser);
      body.resume();
      reject(failure);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new PennError('TOO_LARGE', `the field ${name} is longer than ${FIELD_BYTES_MAX} bytes`));
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on('file', (_name, stream, info) => {
      queue = queue.then(async () => {
        if (failure !== null || info.filename === undefined || info.filename === '') {
          stream.resume();
          return;
        }
        async function* counted(): AsyncIterable<Uint8Array> {
          for await (const chunk of stream) {
            total += (chunk as Buffer).length;
            if (total > bytesMax) throw new PennError('TOO_LARGE', `attachments larger than ${bytesMax} bytes in all cannot be sent`);
            yield chunk as Buffer;
          }
        }
        current = stream;
        try {
          const one = await stager.stage(counted());
          staged.push(one);
          attachments.push({ filename: info.filename, contentType: info.mimeType || 'application/octet-stream', content: stager.open(one) });
        } catch (err) {
          stream.resume();
          fail(err);
        } finally {
          current = null;
        }
      });
    });
    parser.on('filesLimit', () => fail(new PennError('TOO_LARGE', `at most ${ATTACHMENTS_MAX} attachments`)));
    parser.on('error', (err: Error) => fail(new PennError('BAD_REQUEST', `the form is malformed: ${err.message}`)));
    parser.on('close', () => { void queue.then(() => (failure === null ? resolve() : reject(failure))); });
    body.on('error', (err: Error) => fail(err));
  });
  body.pipe(parser);
  try {
    await done;
  } catch (err) {
    await queue;
    await stager.discard(staged);
    throw err;
  }
  const one = (name: string): string | undefined => fields.get(name)?.[0];
  const list = (name: string): string[] => (fields.get(name) ?? []).flatMap(splitAddresses);
  return {
    request: {
      to: list('to'),
      cc: list('cc'),
      subject: one('subject') ?? '',
      text: one('text') ?? '',
      ...(one('html') === undefined ? {} : { html: one('html')! }),
      ...(one('inReplyTo') ? { inReplyTo: one('inReplyTo')! } : {}),
      ...(one('forwardOf') ? { forwardOf: one('forwardOf')! } : {}),
      ...(one('draftOf') ? { draftOf: one('draftOf')! } : {}),
      attachments,
    },
    staged,
  };
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
