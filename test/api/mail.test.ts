import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, type ApiReply, type Cloud } from './cloud.js';
import { OUTBOUND_ROW } from '../../lib/services/mail-service.js';

interface Summary { id: string; subject: string; seen: boolean; hasAttachments: boolean; from: Array<{ address: string }>; delivery: Array<{ recipient: string; state: string }> }

async function inbox(api: ApiClient, folder = 'inbox', query = ''): Promise<{ messages: Summary[]; nextCursor: string | null }> {
  const reply = await api.request('GET', `/api/mail/folders/${folder}${query}`);
  expect(reply.status, reply.body.toString()).to.equal(200);
  return reply.json();
}

async function counts(api: ApiClient): Promise<Record<string, { total: number; unread: number }>> {
  const reply = await api.request('GET', '/api/mail/folders');
  return Object.fromEntries(reply.json().folders.map((f: { name: string; total: number; unread: number }) => [f.name, { total: f.total, unread: f.unread }]));
}

function send(api: ApiClient, body: Record<string, unknown>): Promise<ApiReply> {
  return api.request('POST', '/api/mail/send', { json: body });
}

/** A multipart/form-data body built by hand (fields, then files). */
function form(fields: Record<string, string>, files: Array<{ name: string; type: string; content: Buffer }>): { body: Buffer; type: string } {
  const boundary = 'pcform' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

describe('api: the webmail (a replicated group of three KV nodes, a coordinator, a frontend)', function () {
  this.timeout(180_000);
  let cloud: Cloud;
  let ann: ApiClient;
  let bob: ApiClient;

  beforeEach(async () => {
    cloud = await startCloud({ frontends: 1, replicated: true });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob');
  });
  afterEach(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('delivers to local users: Inbox unread for them, Sent for the sender, counts that follow reading', async () => {
    const sent = await send(ann, { to: 'bob@localhost', cc: ['ann@localhost'], subject: 'Lunch?', text: 'At noon.\nBring the report.' });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const bobs = await inbox(bob);
    expect(bobs.messages.map((m) => m.subject)).to.deep.equal(['Lunch?']);
    expect(bobs.messages[0]!.seen).to.equal(false);
    expect(bobs.messages[0]!.from[0]!.address).to.equal('ann@localhost');
    expect((await inbox(ann)).messages.map((m) => m.subject)).to.deep.equal(['Lunch?']);
    expect((await inbox(ann, 'sent')).messages[0]!.seen).to.equal(true);
    expect(await counts(bob)).to.deep.include({ inbox: { total: 1, unread: 1 } });

    const read = await bob.request('GET', `/api/mail/messages/${bobs.messages[0]!.id}`);
    expect(read.status).to.equal(200);
    expect(read.json().text.replace(/\r\n/g, '\n').trimEnd()).to.equal('At noon.\nBring the report.');
    expect(read.json().cc.map((a: { address: string }) => a.address)).to.deep.equal(['ann@localhost']);
    expect(await counts(bob)).to.deep.include({ inbox: { total: 1, unread: 0 } });
    expect((await inbox(bob)).messages[0]!.seen).to.equal(true);
  });

  it('sends attachments by multipart and gives them back byte-exact, with the raw message', async () => {
    const pdf = bytesFor(7, 300_000);
    const f = form({ to: 'bob@localhost', subject: 'Report', text: 'attached' }, [{ name: 'report.pdf', type: 'application/pdf', content: pdf }]);
    const sent = await ann.request('POST', '/api/mail/send', { body: f.body, headers: { ...MARK, 'content-type': f.type } });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const [summary] = (await inbox(bob)).messages;
    expect(summary!.hasAttachments).to.equal(true);
    const read = (await bob.request('GET', `/api/mail/messages/${summary!.id}`)).json();
    expect(read.attachments).to.deep.equal([{ index: 0, filename: 'report.pdf', contentType: 'application/pdf', size: pdf.length, inline: false }]);
    const attachment = await bob.request('GET', `/api/mail/messages/${summary!.id}/attachments/0`);
    expect(attachment.status).to.equal(200);
    expect(attachment.headers.get('content-type')).to.equal('application/pdf');
    expect(attachment.body.equals(pdf)).to.equal(true);
    const raw = await bob.request('GET', `/api/mail/messages/${summary!.id}/raw`);
    expect(raw.headers.get('content-type')).to.equal('message/rfc822');
    expect(raw.body.toString('latin1')).to.match(/^Subject: Report\r$/m).and.match(/^From: ann@localhost\r$/m);
    expect((await bob.request('GET', `/api/mail/messages/${summary!.id}/attachments/1`)).status).to.equal(404);
  });

  it('threads replies and keeps attachments when forwarding', async () => {
    const f = form({ to: 'bob@localhost', subject: 'Photos', text: 'see attached' }, [{ name: 'cat.png', type: 'image/png', content: bytesFor(3, 5_000) }]);
    await ann.request('POST', '/api/mail/send', { body: f.body, headers: { ...MARK, 'content-type': f.type } });
    const original = (await inbox(bob)).messages[0]!;
    const originalId = (await bob.request('GET', `/api/mail/messages/${original.id}`)).json().messageId as string;
    expect((await send(bob, { to: 'ann@localhost', subject: 'Re: Photos', text: 'lovely', inReplyTo: original.id })).status).to.equal(201);
    const reply = (await inbox(ann)).messages.find((m) => m.subject === 'Re: Photos')!;
    const replyRaw = (await ann.request('GET', `/api/mail/messages/${reply.id}/raw`)).body.toString('latin1');
    expect(replyRaw).to.contain(`In-Reply-To: <${originalId}>`);
    expect((await send(bob, { to: 'ann@localhost', subject: 'Fwd: Photos', text: 'fyi', forwardOf: original.id })).status).to.equal(201);
    const forwarded = (await inbox(ann)).messages.find((m) => m.subject === 'Fwd: Photos')!;
    const attachments = (await ann.request('GET', `/api/mail/messages/${forwarded.id}`)).json().attachments;
    expect(attachments.map((a: { filename: string }) => a.filename)).to.deep.equal(['cat.png']);
    const bytes = (await ann.request('GET', `/api/mail/messages/${forwarded.id}/attachments/0`)).body;
    expect(bytes.equals(bytesFor(3, 5_000))).to.equal(true);
  });

  it('deletes to Trash, restores, and deletes for good from Trash', async () => {
    await send(ann, { to: 'bob@localhost', subject: 'temp', text: 'x' });
    const id = (await inbox(bob)).messages[0]!.id;
    expect((await bob.request('DELETE', `/api/mail/messages/${id}`, { headers: MARK })).json().outcome).to.equal('trashed');
    expect((await inbox(bob)).messages).to.deep.equal([]);
    expect((await inbox(bob, 'trash')).messages.map((m) => m.id)).to.deep.equal([id]);
    expect((await bob.request('POST', `/api/mail/messages/${id}/restore`, { headers: MARK })).json().folder).to.equal('inbox');
    expect((await inbox(bob)).messages.map((m) => m.id)).to.deep.equal([id]);
    expect((await bob.request('POST', `/api/mail/messages/${id}/restore`, { headers: MARK })).status).to.equal(409);
    await bob.request('DELETE', `/api/mail/messages/${id}`, { headers: MARK });
    expect((await bob.request('DELETE', `/api/mail/messages/${id}`, { headers: MARK })).json().outcome).to.equal('removed');
    expect((await bob.request('GET', `/api/mail/messages/${id}`)).status).to.equal(404);
    expect(await counts(bob)).to.deep.include({ inbox: { total: 0, unread: 0 }, trash: { total: 0, unread: 0 } });
  });

  it('refuses unknown local recipients, bad addresses and empty recipient lists up front', async () => {
    let reply = await send(ann, { to: ['bob@localhost', 'nobody@localhost'], subject: 's', text: 't' });
    expect(reply.status).to.equal(400);
    expect(errorOf(reply)).to.include({ reason: 'UNKNOWN_RECIPIENT' });
    expect(errorOf(reply).message).to.contain('nobody@localhost');
    expect((await inbox(bob)).messages, 'nothing half-sent').to.deep.equal([]);
    reply = await send(ann, { to: 'not an address', text: 't' });
    expect(errorOf(reply)).to.include({ reason: 'BAD_ADDRESS' });
    reply = await send(ann, { to: [], text: 't' });
    expect(errorOf(reply)).to.include({ reason: 'NO_RECIPIENTS' });
    reply = await ann.request('POST', '/api/mail/send', { body: '{"to":"bob@localhost"}', headers: { 'content-type': 'text/plain' } });
    expect(reply.status, 'a plain-text POST is refused as cross-site').to.equal(403);
  });

  it('queues mail to other domains and shows its delivery state in Sent', async () => {
    const reply = await send(ann, { to: ['bob@localhost', 'carol@example.org'], subject: 'hello out there', text: 'hi' });
    expect(reply.status).to.equal(201);
    const sent = (await inbox(ann, 'sent')).messages[0]!;
    expect(sent.delivery).to.have.length(1);
    expect(sent.delivery[0]).to.include({ recipient: 'carol@example.org', state: 'queued' });
    const queued = await cloud.kvClient().listColumns(OUTBOUND_ROW, { limit: 10 });
    expect(queued.columns.map((c) => c.column)).to.deep.equal([`${sent.id}/carol@example.org`]);
  });

  it('lists pages newest first with a cursor', async () => {
    for (let i = 0; i < 12; i++) expect((await send(ann, { to: 'bob@localhost', subject: `m${i}`, text: String(i) })).status).to.equal(201);
    const first = await inbox(bob, 'inbox', '?limit=5');
    expect(first.messages.map((m) => m.subject)).to.deep.equal(['m11', 'm10', 'm9', 'm8', 'm7']);
    const second = await inbox(bob, 'inbox', `?limit=5&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.messages.map((m) => m.subject)).to.deep.equal(['m6', 'm5', 'm4', 'm3', 'm2']);
    const last = await inbox(bob, 'inbox', `?limit=5&cursor=${encodeURIComponent(second.nextCursor!)}`);
    expect(last.messages.map((m) => m.subject)).to.deep.equal(['m1', 'm0']);
    expect(last.nextCursor).to.equal(null);
    expect((await bob.request('GET', '/api/mail/folders/inbox?limit=0')).status).to.equal(400);
    expect((await bob.request('GET', '/api/mail/folders/spam')).status).to.equal(404);
  });

  it('keeps mailboxes apart: no reading, deleting or restoring another user\'s message', async () => {
    await send(ann, { to: 'ann@localhost', subject: 'private', text: 'mine' });
    const id = (await inbox(ann)).messages[0]!.id;
    for (const [method, path] of [['GET', `/api/mail/messages/${id}`], ['GET', `/api/mail/messages/${id}/raw`],
      ['GET', `/api/mail/messages/${id}/attachments/0`], ['DELETE', `/api/mail/messages/${id}`], ['POST', `/api/mail/messages/${id}/restore`]] as const) {
      const reply = await bob.request(method, path, { headers: MARK });
      expect(reply.status, `${method} ${path}`).to.equal(404);
    }
    const forward = await send(bob, { to: 'bob@localhost', subject: 'steal', text: 'x', forwardOf: id });
    expect(forward.status).to.equal(404);
    expect((await inbox(ann)).messages.map((m) => m.id)).to.deep.equal([id]);
    expect((await new ApiClient(cloud.urls[0]!).request('GET', '/api/mail/folders/inbox')).status).to.equal(401);
  });
});
