/**
 * Drafts through real frontends and KV nodes: a draft with an attachment and a half-typed
 * address is saved, replaced by newer drafts that keep its attachment, survives its frontend
 * being killed, and is sent with everything in it; the draft then leaves Drafts.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles, stopRole } from '../support/roles.js';
import { ApiClient, bytesFor, closeKvClients, errorOf, MARK, startCloud, type Cloud } from './cloud.js';

/** A multipart/form-data body built by hand (fields, then one file). */
function form(fields: Record<string, string>, file: { name: string; type: string; content: Buffer }): { body: Buffer; type: string } {
  const boundary = 'draftform' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`), file.content, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

describe('api: drafts (real KV nodes and frontends)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;
  let bob: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 2 });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    bob = await new ApiClient(cloud.urls[1]!).signUpAndLogIn('bob');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  const drafts = async () => (await ann.request('GET', '/api/mail/folders/drafts')).json().messages;

  it('keeps an attachment across newer drafts and a killed frontend, then sends it all and leaves Drafts', async () => {
    const plan = bytesFor(9, 50_000);
    const first = form({ to: 'bob@loc', subject: 'Plan', text: 'Draft one' }, { name: 'plan.pdf', type: 'application/pdf', content: plan });
    const saved = await ann.request('POST', '/api/mail/drafts', { body: first.body, headers: { ...MARK, 'content-type': first.type } });
    expect(saved.status, saved.body.toString()).to.equal(201);
    const firstId = saved.json().message.id as string;
    let list = await drafts();
    expect(list.map((m: { id: string }) => m.id)).to.deep.equal([firstId]);
    expect(list[0].flags).to.include('\\Draft');
    expect(list[0].seen).to.equal(true);

    // The next save is JSON (nothing new attached) and names the draft it replaces.
    const second = await ann.request('POST', '/api/mail/drafts', { json: { to: 'bob@localhost', subject: 'Plan', text: 'Draft two', draftOf: firstId } });
    expect(second.status).to.equal(201);
    const secondId = second.json().message.id as string;
    list = await drafts();
    expect(list.map((m: { id: string }) => m.id)).to.deep.equal([secondId]);
    expect((await ann.request('GET', `/api/mail/messages/${firstId}`)).status).to.equal(404);

    // The frontend that saved it crashes (SIGKILL); the other one has it all.
    await stopRole(cloud.frontends[0]!, 'SIGKILL');
    const other = new ApiClient(cloud.urls[1]!);
    other.cookie = ann.cookie;
    const reopened = (await other.request('GET', `/api/mail/messages/${secondId}`)).json();
    expect(reopened.text.trim()).to.equal('Draft two');
    expect(reopened.to.map((a: { address: string }) => a.address)).to.deep.equal(['bob@localhost']);
    expect(reopened.attachments.map((a: { filename: string }) => a.filename)).to.deep.equal(['plan.pdf']);
    expect((await other.request('GET', `/api/mail/messages/${secondId}/attachments/0`)).body.equals(plan)).to.equal(true);

    ann = other;
    const sent = await ann.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Plan', text: 'Final', draftOf: secondId } });
    expect(sent.status, sent.body.toString()).to.equal(201);
    expect(await drafts()).to.deep.equal([]);
    const [received] = (await bob.request('GET', '/api/mail/folders/inbox')).json().messages;
    const body = (await bob.request('GET', `/api/mail/messages/${received.id}`)).json();
    expect(body.text.trim()).to.equal('Final');
    expect((await bob.request('GET', `/api/mail/messages/${received.id}/attachments/0`)).body.equals(plan)).to.equal(true);
  });

  it("refuses to take a message that is not a draft, or another user's draft, as draftOf", async () => {
    const mine = await ann.request('POST', '/api/mail/drafts', { json: { subject: 'Secret', text: 'mine' } });
    const mineId = mine.json().message.id as string;
    const stolen = await bob.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'x', text: 'x', draftOf: mineId } });
    expect(stolen.status).to.equal(404);
    const [inboxMessage] = (await bob.request('GET', '/api/mail/folders/inbox')).json().messages;
    const notDraft = await bob.request('POST', '/api/mail/drafts', { json: { subject: 'x', text: 'x', draftOf: inboxMessage.id } });
    expect(notDraft.status).to.equal(400);
    expect(errorOf(notDraft).reason).to.equal('NOT_A_DRAFT');
    expect((await drafts()).map((m: { id: string }) => m.id)).to.deep.equal([mineId]);
  });
});
