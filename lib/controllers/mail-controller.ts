/**
 * The webmail under `/api/mail`:
 *   GET    /api/mail/folders                        folders with total and unread counts
 *   GET    /api/mail/folders/<folder>?cursor=&limit= a page of a folder, newest first
 *   GET    /api/mail/search?q=&folder=&cursor=       messages matching words (from:, to:, subject:), newest first
 *   GET    /api/mail/changes?since=&waitMs=           waits (long poll) until the mailbox changes; its stamp
 *   GET    /api/mail/messages/<id>                   the message parsed (marks it seen)
 *   GET    /api/mail/messages/<id>/raw               its RFC 5322 bytes
 *   GET    /api/mail/messages/<id>/conversation      the messages of its conversation, oldest first
 *   GET    /api/mail/messages/<id>/html              its HTML as a sandboxed page, for a frame (?images=1: remote images too)
 *   GET    /api/mail/messages/<id>/attachments/<n>   attachment n (0-based)
 *   POST   /api/mail/send                            JSON or multipart: to, cc, subject, text, ... (draftOf: send a draft)
 *   POST   /api/mail/drafts                          the same, saved to Drafts (draftOf: the draft it replaces)
 *   DELETE /api/mail/messages/<id>                   to Trash; in Trash, for good
 *   POST   /api/mail/messages/<id>/restore           back from Trash
 *   POST   /api/mail/messages/<id>/marks             {seen?, starred?}: read or unread, starred or not
 *   POST   /api/mail/messages/<id>/move              {folder}: to another folder
 * Ids are looked up in the caller's own mailbox only.
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { Controller, type RouteTable } from '../router/router.js';
import { MAIL_PAGE_DEFAULT, MAIL_PAGE_MAX } from '../services/mail-index.js';
import { MAIL_SEARCH_PAGE_DEFAULT, MAIL_SEARCH_PAGE_MAX, parseMailQuery } from '../services/mail-search.js';
import { MAIL_CHANGES_WAIT_MS_MAX, type MailService, type SendRequest } from '../services/mail-service.js';
import type { MessageSummary } from '../services/mail-records.js';
import { contentDisposition } from './content-disposition.js';
import { hasRemoteImages, mailHtmlFields, mailHtmlPage } from './mail-html-page.js';
import { readMailForm, splitAddresses } from './mail-form.js';
import { requireSameSite, requireSession, sessionOf, type Authenticator } from './request-guards.js';

/** Largest body of a marks request: two booleans. */
const MARKS_BODY_BYTES_MAX = 1024;

/** Largest JSON send request: text plus addresses; attachments come as multipart. */
const SEND_JSON_BYTES_MAX = 4 * 1024 * 1024;

/** Long polls for mailbox changes one frontend holds open at once (each polls the store twice a second). */
export const MAIL_WATCHERS_MAX = 1_000;

export class MailController extends Controller {
  /** Long polls waiting now. */
  private watchers = 0;

  /** @param stopping aborted when the frontend begins to stop: waiting long polls answer then */
  constructor(private readonly mail: MailService, auth: Authenticator, private readonly stopping?: AbortSignal) {
    super();
    this.middleware.push(requireSameSite, requireSession(auth));
  }

  routes(table: RouteTable): void {
    table.get('/folders', (ctx) => this.folders(ctx));
    table.get('/folders/:folder', (ctx) => this.list(ctx));
    table.get('/search', (ctx) => this.search(ctx));
    table.get('/changes', (ctx) => this.changes(ctx));
    table.get('/messages/:id', (ctx) => this.read(ctx));
    table.get('/messages/:id/raw', (ctx) => this.raw(ctx));
    table.get('/messages/:id/conversation', async (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, { messages: await this.mail.conversation(this.user(ctx), ctx.params.id!) });
    });
    table.get('/messages/:id/html', (ctx) => this.html(ctx));
    table.get('/messages/:id/attachments/:n', (ctx) => this.attachment(ctx));
    table.post('/send', (ctx) => this.send(ctx));
    table.post('/drafts', (ctx) => this.saveDraft(ctx));
    table.delete('/messages/:id', (ctx) => this.remove(ctx));
    table.post('/messages/:id/restore', (ctx) => this.restore(ctx));
    table.post('/messages/:id/marks', (ctx) => this.mark(ctx));
    table.post('/messages/:id/move', async (ctx) => {
      const body = await ctx.readJson(MARKS_BODY_BYTES_MAX) as { folder?: unknown } | null;
      if (typeof body?.folder !== 'string') throw new PennError('BAD_REQUEST', 'send {"folder": "inbox" | "drafts" | "sent" | "trash"}', { reason: 'BAD_FOLDER' });
      await this.mail.move(this.user(ctx), ctx.params.id!, body.folder);
      ctx.json(200, { id: ctx.params.id, folder: body.folder });
    });
  }

  private user(ctx: RequestContext): string {
    return sessionOf(ctx).username;
  }

  private async folders(ctx: RequestContext): Promise<void> {
    const counts = await this.mail.counts(this.user(ctx));
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, { folders: Object.entries(counts).map(([name, c]) => ({ name, ...c })) });
  }

  private async list(ctx: RequestContext): Promise<void> {
    const raw = ctx.query.get('limit');
    const limit = raw === null ? MAIL_PAGE_DEFAULT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAIL_PAGE_MAX) {
      throw new PennError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAIL_PAGE_MAX}`);
    }
    const page = await this.mail.listFolder(this.user(ctx), ctx.params.folder!, ctx.query.get('cursor') || null, limit);
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, page);
  }

  /** A long poll: at most MAIL_WATCHERS_MAX wait at once on one frontend; the rest are told to come back. */
  private async changes(ctx: RequestContext): Promise<void> {
    const raw = ctx.query.get('waitMs');
    const waitMs = raw === null ? MAIL_CHANGES_WAIT_MS_MAX : Number(raw);
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAIL_CHANGES_WAIT_MS_MAX) {
      throw new PennError('BAD_REQUEST', `waitMs must be a whole number of milliseconds from 0 to ${MAIL_CHANGES_WAIT_MS_MAX}`);
    }
    if (this.watchers >= MAIL_WATCHERS_MAX) {
      ctx.res.setHeader('retry-after', '15');
      throw new PennError('UNAVAILABLE', 'too many clients are waiting for new mail on this server; ask again in 15 s', { reason: 'TOO_MANY_WATCHERS' });
    }
    this.watchers++;
    try {
      const result = await this.mail.waitForChange(this.user(ctx), ctx.query.get('since') || null, waitMs, this.stopping);
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, result);
    } finally {
      this.watchers--;
    }
  }

  private async search(ctx: RequestContext): Promise<void> {
    const query = parseMailQuery(ctx.query.get('q') ?? '', ctx.query.get('folder') ?? undefined);
    const raw = ctx.query.get('limit');
    const limit = raw === null ? MAIL_SEARCH_PAGE_DEFAULT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAIL_SEARCH_PAGE_MAX) {
      throw new PennError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAIL_SEARCH_PAGE_MAX}`);
    }
    const page = await this.mail.search(this.user(ctx), query, ctx.query.get('cursor') || null, limit);
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, page);
  }

  private async read(ctx: RequestContext): Promise<void> {
    const { summary, folder, parsed } = await this.mail.read(this.user(ctx), ctx.params.id!, true);
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, {
      message: summary,
      folder,
      senderWarning: summary.senderWarning ?? null,
      headers: parsed.headers.map((h) => ({ name: h.name, value: h.value })),
      subject: parsed.subject,
      from: parsed.from,
      to: parsed.to,
      cc: parsed.cc,
      replyTo: parsed.replyTo,
      messageId: parsed.messageId,
      text: parsed.text,
      html: parsed.html,
      remoteImages: parsed.html !== null && hasRemoteImages(parsed.html),
      attachments: parsed.attachments.map((a, n) => ({ index: n, filename: a.filename, contentType: a.contentType, size: a.content.length, inline: a.inline })),
    });
  }

  private async raw(ctx: RequestContext): Promise<void> {
    const { size, stream } = await this.mail.rawStream(this.user(ctx), ctx.params.id!);
    ctx.res.setHeader('content-disposition', contentDisposition('attachment', `${ctx.params.id}.eml`));
    ctx.res.setHeader('cache-control', 'private, no-cache');
    ctx.res.status = 200;
    ctx.res.setHeader('content-type', 'message/rfc822');
    await ctx.res.stream(stream, size);
  }

  private async html(ctx: RequestContext): Promise<void> {
    const { parsed } = await this.mail.read(this.user(ctx), ctx.params.id!, false);
    if (parsed.html === null) {
      throw new PennError('NOT_FOUND', `message ${ctx.params.id} has no HTML part`);
    }
    for (const [name, value] of mailHtmlFields(ctx.query.get('images') === '1')) ctx.res.setHeader(name, value);
    ctx.res.setHeader('cache-control', 'private, no-cache');
    ctx.text(200, mailHtmlPage(parsed.html), 'text/html; charset=utf-8');
  }

  private async attachment(ctx: RequestContext): Promise<void> {
    const n = Number(ctx.params.n);
    const { parsed } = await this.mail.read(this.user(ctx), ctx.params.id!, false);
    const a = Number.isInteger(n) && n >= 0 ? parsed.attachments[n] : undefined;
    if (a === undefined) throw new PennError('NOT_FOUND', `message ${ctx.params.id} has no attachment ${ctx.params.n}`);
    ctx.res.status = 200;
    ctx.res.setHeader('content-type', a.contentType);
    ctx.res.setHeader('content-disposition', contentDisposition('attachment', a.filename));
    ctx.res.setHeader('cache-control', 'private, no-cache');
    ctx.res.setHeader('x-content-type-options', 'nosniff');
    ctx.res.end(a.content);
  }

  /** A send holds one of the mail service's send slots from the first byte of its form to its reply. */
  private async send(ctx: RequestContext): Promise<void> {
    const sent = await this.composed(ctx, (user, request) => this.mail.send(user, request));
    ctx.json(201, { message: sent });
  }

  private async saveDraft(ctx: RequestContext): Promise<void> {
    const saved = await this.composed(ctx, (user, request) => this.mail.saveDraft(user, request));
    ctx.json(201, { message: saved });
  }

  /** Reads a message being written (JSON, or multipart with attachments staged) and hands it to `use`. */
  private async composed(ctx: RequestContext, use: (user: string, request: SendRequest) => Promise<MessageSummary>): Promise<MessageSummary> {
    const type = (ctx.req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const user = this.user(ctx);
    return this.mail.sendSlots.run(async () => {
      if (type !== 'multipart/form-data') return use(user, sendFromJson(await ctx.readJson(SEND_JSON_BYTES_MAX)));
      const form = await readMailForm(ctx, this.mail.options.messageBytesMax, {
        stage: (source) => this.mail.staging.stage(user, source),
        open: (staged) => this.mail.staging.open(user, staged),
        discard: (staged) => this.mail.staging.discard(user, staged),
      });
      try {
        return await use(user, form.request);
      } finally {
        await this.mail.staging.discard(user, form.staged);
      }
    });
  }

  private async remove(ctx: RequestContext): Promise<void> {
    const outcome = await this.mail.delete(this.user(ctx), ctx.params.id!);
    ctx.json(200, { id: ctx.params.id, outcome });
  }

  private async mark(ctx: RequestContext): Promise<void> {
    const body = await ctx.readJson(MARKS_BODY_BYTES_MAX) as { seen?: unknown; starred?: unknown } | null;
    const summary = await this.mail.mark(this.user(ctx), ctx.params.id!, body ?? {});
    ctx.json(200, { id: summary.id, seen: summary.seen, starred: (summary.flags ?? []).includes('\\Flagged') });
  }

  private async restore(ctx: RequestContext): Promise<void> {
    const folder = await this.mail.restore(this.user(ctx), ctx.params.id!);
    ctx.json(200, { id: ctx.params.id, folder });
  }
}

function sendFromJson(body: unknown): SendRequest {
  if (typeof body !== 'object' || body === null) throw new PennError('BAD_REQUEST', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const addressField = (name: string): string[] => {
    const v = b[name];
    if (v === undefined) return [];
    if (typeof v === 'string') return splitAddresses(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    throw new PennError('BAD_REQUEST', `${name} must be an address or a list of addresses`);
  };
  const text = (name: string, optional: boolean): string | undefined => {
    const v = b[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new PennError('BAD_REQUEST', `${name} must be a string`);
    return v;
  };
  return {
    to: addressField('to'),
    cc: addressField('cc'),
    subject: text('subject', true) ?? '',
    text: text('text', true) ?? '',
    ...(b.html === undefined ? {} : { html: text('html', false)! }),
    ...(b.inReplyTo === undefined ? {} : { inReplyTo: text('inReplyTo', false)! }),
    ...(b.forwardOf === undefined ? {} : { forwardOf: text('forwardOf', false)! }),
    ...(b.draftOf === undefined || b.draftOf === null ? {} : { draftOf: text('draftOf', false)! }),
    attachments: [],
  };
}
