/**
 * New mail seen at once: the webmail's long poll (`GET /api/mail/changes`) through a real
 * frontend and KV nodes answers as soon as mail arrives (long before its wait is over), stays
 * open while nothing changes, and is the caller's own mailbox only.
 */
import { expect } from 'chai';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, errorOf, startCloud, type Cloud } from './cloud.js';

/** The wait asked for: far longer than a change takes to show, so an early answer is the change. */
const WAIT_MS = 20_000;

describe('api: waiting for new mail (long poll, real KV nodes and a frontend)', function () {
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

  const stampOf = async (client: ApiClient): Promise<string> => {
    const reply = await client.request('GET', '/api/mail/changes?waitMs=0');
    expect(reply.status).to.equal(200);
    expect(reply.json().changed).to.equal(false);
    return reply.json().stamp;
  };

  it('answers as soon as mail arrives, with a new stamp; a mark answers too', async () => {
    const since = await stampOf(bob);
    const started = Date.now();
    const waiting = bob.request('GET', `/api/mail/changes?since=${since}&waitMs=${WAIT_MS}`);
    // ann's mail to bob while bob's request waits.
    expect((await ann.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Ping', text: 'Are you there?' } })).status).to.equal(201);
    const sentAt = Date.now();
    const reply = await waiting;
    const answeredAt = Date.now();
    expect(reply.status).to.equal(200);
    expect(reply.json().changed).to.equal(true);
    expect(reply.json().stamp).to.not.equal(since);
    expect(answeredAt - started).to.be.below(WAIT_MS);
    process.stdout.write(`      (new mail reported ${answeredAt - sentAt} ms after the send was acknowledged)\n`);

    const [message] = (await bob.request('GET', '/api/mail/folders/inbox')).json().messages;
    const next = reply.json().stamp;
    const marked = bob.request('GET', `/api/mail/changes?since=${next}&waitMs=${WAIT_MS}`);
    await bob.request('POST', `/api/mail/messages/${message.id}/marks`, { json: { seen: true } });
    expect((await marked).json().changed).to.equal(true);
  });

  it("waits out its time when nothing changes, is not woken by another user's mail, and names bad waits", async () => {
    const since = await stampOf(ann);
    const started = Date.now();
    const waiting = ann.request('GET', `/api/mail/changes?since=${since}&waitMs=3000`);
    // Mail to bob alone: ann's mailbox does not change.
    await bob.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Note to self', text: 'x' } });
    const reply = await waiting;
    expect(reply.json()).to.deep.equal({ stamp: since, changed: false });
    expect(Date.now() - started).to.be.at.least(3000);
    const bad = await ann.request('GET', '/api/mail/changes?waitMs=999999');
    expect(bad.status).to.equal(400);
    expect(errorOf(bad).message).to.contain('waitMs');
  });
});
