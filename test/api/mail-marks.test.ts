/**
 * The webmail's marks through a real frontend and KV nodes: read and unread, a star (IMAP's
 * \Flagged), a snippet of the text in the list; another user's ids are 404, bad marks 400.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, errorOf, startCloud, type Cloud } from './cloud.js';

describe('api: mail marks and snippets (real KV nodes and a frontend)', function () {
  this.timeout(120_000);
  let cloud: Cloud;
  let ann: ApiClient;
  let bob: ApiClient;

  before(async () => {
    cloud = await startCloud({ frontends: 1 });
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
    bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob');
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  const inbox = async (client: ApiClient) => (await client.request('GET', '/api/mail/folders/inbox')).json().messages;
  const unread = async (client: ApiClient) => (await client.request('GET', '/api/mail/folders')).json().folders.find((f: { name: string }) => f.name === 'inbox').unread;

  it('lists a snippet of the text; marks read and unread (counts follow) and stars, and reports them', async () => {
    const text = 'Hi Bob,\n\n> quoted from before\nThe   report is ready.\nSee you at noon.\n' + 'More words. '.repeat(40);
    expect((await ann.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Report', text } })).status).to.equal(201);
    const [message] = await inbox(bob);
    expect(message.snippet.startsWith('Hi Bob, The report is ready. See you at noon. More words.')).to.equal(true);
    expect(message.snippet.length).to.be.at.most(160);
    expect(message.snippet.endsWith('…')).to.equal(true);
    expect(await unread(bob)).to.equal(1);

    const read = await bob.request('POST', `/api/mail/messages/${message.id}/marks`, { json: { seen: true } });
    expect(read.status).to.equal(200);
    expect(read.json()).to.deep.equal({ id: message.id, seen: true, starred: false });
    expect(await unread(bob)).to.equal(0);
    const starred = await bob.request('POST', `/api/mail/messages/${message.id}/marks`, { json: { starred: true } });
    expect(starred.json()).to.deep.equal({ id: message.id, seen: true, starred: true });
    const [listed] = await inbox(bob);
    expect(listed.flags).to.include('\\Flagged');
    expect(listed.seen).to.equal(true);
    const both = await bob.request('POST', `/api/mail/messages/${message.id}/marks`, { json: { seen: false, starred: false } });
    expect(both.json()).to.deep.equal({ id: message.id, seen: false, starred: false });
    expect(await unread(bob)).to.equal(1);
  });

  it("refuses another user's message (404) and marks that are not true or false (400)", async () => {
    const [message] = await inbox(bob);
    const other = await ann.request('POST', `/api/mail/messages/${message.id}/marks`, { json: { starred: true } });
    expect(other.status).to.equal(404);
    expect((await inbox(bob))[0].flags ?? []).to.not.include('\\Flagged');
    for (const body of [{}, { seen: 'yes' }, { starred: 1 }]) {
      const reply = await bob.request('POST', `/api/mail/messages/${message.id}/marks`, { json: body });
      expect(reply.status, JSON.stringify(body)).to.equal(400);
      expect(errorOf(reply).reason).to.equal('BAD_MARK');
    }
  });

  it('moves a message to another folder; a bad folder is named, another user gets 404', async () => {
    const [message] = await inbox(bob);
    const moved = await bob.request('POST', `/api/mail/messages/${message.id}/move`, { json: { folder: 'drafts' } });
    expect(moved.status).to.equal(200);
    expect(await inbox(bob)).to.deep.equal([]);
    expect((await bob.request('GET', '/api/mail/folders/drafts')).json().messages.map((m: { id: string }) => m.id)).to.deep.equal([message.id]);
    const bad = await bob.request('POST', `/api/mail/messages/${message.id}/move`, { json: { folder: 'spam' } });
    expect(bad.status).to.equal(404);
    expect(errorOf(bad).message).to.contain('the folders are');
    expect((await bob.request('POST', `/api/mail/messages/${message.id}/move`, { json: {} })).status).to.equal(400);
    expect((await ann.request('POST', `/api/mail/messages/${message.id}/move`, { json: { folder: 'inbox' } })).status).to.equal(404);
    expect((await bob.request('POST', `/api/mail/messages/${message.id}/move`, { json: { folder: 'inbox' } })).status).to.equal(200);
    expect((await inbox(bob)).map((m: { id: string }) => m.id)).to.deep.equal([message.id]);
  });
});
