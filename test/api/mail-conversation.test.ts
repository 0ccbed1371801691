/**
 * Conversations through a real frontend and KV nodes: a message, its reply and the reply to
 * that are one conversation (by References and In-Reply-To) across Inbox and Sent, oldest
 * first; another thread and another user's mail stay out.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud, type Cloud } from './cloud.js';

describe('api: mail conversations (real KV nodes and a frontend)', function () {
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

  const send = async (from: ApiClient, body: Record<string, unknown>): Promise<void> => {
    const reply = await from.request('POST', '/api/mail/send', { json: body });
    expect(reply.status, reply.body.toString()).to.equal(201);
  };
  const inbox = async (c: ApiClient) => (await c.request('GET', '/api/mail/folders/inbox')).json().messages as { id: string; subject: string }[];

  it('joins replies to their original across folders, oldest first, and leaves other threads out', async () => {
    await send(ann, { to: 'bob@localhost', subject: 'Offsite', text: 'Shall we meet on Friday?' });
    await send(ann, { to: 'bob@localhost', subject: 'Unrelated', text: 'Something else' });
    const offsite = (await inbox(bob)).find((m) => m.subject === 'Offsite')!;
    await send(bob, { to: 'ann@localhost', subject: 'Re: Offsite', text: 'Friday works.', inReplyTo: offsite.id });
    const bobsReply = (await inbox(ann)).find((m) => m.subject === 'Re: Offsite')!;
    await send(ann, { to: 'bob@localhost', subject: 'Re: Offsite', text: 'Great, 10am.', inReplyTo: bobsReply.id });

    const last = (await inbox(bob)).find((m) => m.subject === 'Re: Offsite')!;
    const thread = (await bob.request('GET', `/api/mail/messages/${last.id}/conversation`)).json().messages as { subject: string; folder: string; snippet: string }[];
    expect(thread.map((m) => `${m.folder}: ${m.snippet}`)).to.deep.equal([
      'inbox: Shall we meet on Friday?', 'sent: Friday works.', 'inbox: Great, 10am.',
    ]);
    const fromOriginal = (await bob.request('GET', `/api/mail/messages/${offsite.id}/conversation`)).json().messages;
    expect(fromOriginal).to.have.length(3);
    const unrelated = (await inbox(bob)).find((m) => m.subject === 'Unrelated')!;
    expect((await bob.request('GET', `/api/mail/messages/${unrelated.id}/conversation`)).json().messages).to.have.length(1);
    expect((await ann.request('GET', `/api/mail/messages/${last.id}/conversation`)).status).to.equal(404);
  });
});
