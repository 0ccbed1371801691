/**
 * Searching mail through a real frontend and KV nodes: by sender, recipients, subject (word
 * prefixes) and body words; `from:`, `to:`, `subject:` and a folder narrow it; a message moved
 * to Trash is found there, one deleted for good is not; users are kept apart; pages hold up.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, errorOf, MARK, startCloud, type Cloud } from './cloud.js';

describe('api: mail search (real KV nodes and a frontend)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;
  let bob: ApiClient;

  const send = async (from: ApiClient, body: Record<string, unknown>): Promise<string> => {
    const reply = await from.request('POST', '/api/mail/send', { json: body });
    expect(reply.status, reply.body.toString()).to.equal(201);
    return reply.json().message?.id ?? reply.json().id;
  };
  const search = async (client: ApiClient, query: string): Promise<string[]> => {
    const reply = await client.request('GET', `/api/mail/search?${query}`);
    expect(reply.status, reply.body.toString()).to.equal(200);
    return reply.json().messages.map((m: { subject: string }) => m.subject);
  };

  before(async () => {
    cloud = await startCloud({ frontends: 1 });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob');
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('carol');
    await send(ann, { to: 'bob@localhost', subject: 'Quarterly report', text: 'The numbers for Q3 are attached. Regards, Ann' });
    await send(ann, { to: 'bob@localhost', subject: 'Lunch on Friday?', text: 'Pizza at the café near the office?' });
    await send(ann, { to: 'carol@localhost', cc: ['bob@localhost'], subject: 'Réunion', text: 'Agenda: budget, hiring.' });
    await send(bob, { to: 'ann@localhost', subject: 'Re: Quarterly report', text: 'Thanks, the report looks fine.' });
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('finds words of the subject, sender and recipients by prefix, and body words whole, newest first', async () => {
    // bob's own reply, in his Sent, is a match too.
    expect(await search(bob, 'q=quarter')).to.deep.equal(['Re: Quarterly report', 'Quarterly report']);
    expect(await search(bob, 'q=pizza')).to.deep.equal(['Lunch on Friday?']);
    expect(await search(bob, 'q=cafe')).to.deep.equal(['Lunch on Friday?']);
    expect(await search(bob, 'q=reunion')).to.deep.equal(['Réunion']);
    expect(await search(bob, 'q=ann')).to.deep.equal(['Re: Quarterly report', 'Réunion', 'Lunch on Friday?', 'Quarterly report']);
    expect(await search(bob, 'q=budget%20hiring')).to.deep.equal(['Réunion']);
    expect(await search(bob, 'q=numbers%20pizza')).to.deep.equal([]);
    // Body words are whole words: "numb" is no word of any message.
    expect(await search(bob, 'q=numb')).to.deep.equal([]);
  });

  it('narrows by from:, to:, subject: and folder; follows a message to Trash; forgets one deleted for good', async () => {
    expect(await search(ann, 'q=report')).to.deep.equal(['Re: Quarterly report', 'Quarterly report']);
    expect(await search(ann, 'q=report&folder=inbox')).to.deep.equal(['Re: Quarterly report']);
    expect(await search(ann, 'q=report&folder=sent')).to.deep.equal(['Quarterly report']);
    expect(await search(ann, 'q=from:bob%20report')).to.deep.equal(['Re: Quarterly report']);
    expect(await search(ann, 'q=to:carol')).to.deep.equal(['Réunion']);
    expect(await search(bob, 'q=to:bob%20subject:lunch')).to.deep.equal(['Lunch on Friday?']);
    expect(await search(bob, 'q=subject:pizza')).to.deep.equal([]);

    const lunch = (await bob.request('GET', '/api/mail/search?q=lunch')).json().messages[0];
    expect(lunch.folder).to.equal('inbox');
    expect((await bob.request('DELETE', `/api/mail/messages/${lunch.id}`, { headers: MARK })).status).to.be.oneOf([200, 204]);
    const trashed = (await bob.request('GET', '/api/mail/search?q=lunch')).json().messages;
    expect(trashed.map((m: { folder: string }) => m.folder)).to.deep.equal(['trash']);
    expect(await search(bob, 'q=lunch&folder=inbox')).to.deep.equal([]);
    expect((await bob.request('DELETE', `/api/mail/messages/${lunch.id}`, { headers: MARK })).status).to.be.oneOf([200, 204]);
    expect(await search(bob, 'q=lunch')).to.deep.equal([]);
  });

  it("keeps users apart, names a bad query, and pages newest first without repeats", async () => {
    const carol = new ApiClient(cloud.urls[0]!);
    await carol.logIn('carol', 'correct horse');
    expect(await search(carol, 'q=quarterly')).to.deep.equal([]);
    expect(await search(carol, 'q=agenda')).to.deep.equal(['Réunion']);
    for (const [query, text] of [['q=', 'type a word'], ['q=%20%2B%20', 'type a word'], ['q=x&folder=spam', 'folder must be one of']] as const) {
      const reply = await carol.request('GET', `/api/mail/search?${query}`);
      expect(reply.status, query).to.equal(400);
      expect(errorOf(reply)).to.include({ reason: 'BAD_QUERY' });
      expect(errorOf(reply).message).to.contain(text);
    }
    expect((await new ApiClient(cloud.urls[0]!).request('GET', '/api/mail/search?q=x')).status).to.equal(401);

    for (let i = 0; i < 23; i++) await send(carol, { to: 'carol@localhost', subject: `Invoice ${i}`, text: `Invoice number ${i}` });
    const subjects: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const reply = await carol.request('GET', `/api/mail/search?q=invoice&folder=inbox&limit=5${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      subjects.push(...reply.json().messages.map((m: { subject: string }) => m.subject));
      cursor = reply.json().nextCursor;
      if (cursor === null) break;
    }
    expect(subjects).to.deep.equal(Array.from({ length: 23 }, (_v, i) => `Invoice ${22 - i}`));
  });
});
