/**
 * The protective header fields of every web response (docs/security.md, "Web hardening"): the
 * app's Content-Security-Policy, X-Frame-Options, nosniff and Referrer-Policy on the app page,
 * its assets, API replies, error replies (the router's and the HTTP server's own), and the
 * dispatcher's redirects and pages; content that is not the app (a message's HTML, a user's
 * file) carries its own stricter policy instead.
 */
import { expect } from 'chai';
import { parseRawReply, rawExchange } from '../support/http-harness.js';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { ApiClient, closeKvClients, MARK, startCloud, type Cloud } from './cloud.js';

/** The app's policy split into directives: name → sources. */
function directives(policy: string | null): Map<string, string[]> {
  expect(policy, 'Content-Security-Policy').to.be.a('string');
  const out = new Map<string, string[]>();
  for (const part of policy!.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name, sources);
  }
  return out;
}

/** What every reply of the app carries, whatever it is. */
function expectAppFields(headers: { get(name: string): string | null }, what: string): void {
  const policy = directives(headers.get('content-security-policy'));
  expect(policy.get('default-src'), `${what}: default-src`).to.deep.equal(["'self'"]);
  expect(policy.get('script-src'), `${what}: script-src`).to.deep.equal(["'self'"]);
  expect(policy.get('style-src'), `${what}: style-src`).to.deep.equal(["'self'"]);
  expect(policy.get('object-src'), `${what}: object-src`).to.deep.equal(["'none'"]);
  expect(policy.get('frame-ancestors'), `${what}: frame-ancestors`).to.deep.equal(["'none'"]);
  expect(headers.get('x-frame-options'), `${what}: X-Frame-Options`).to.equal('DENY');
  expect(headers.get('x-content-type-options'), `${what}: nosniff`).to.equal('nosniff');
  expect(headers.get('referrer-policy'), `${what}: Referrer-Policy`).to.equal('same-origin');
  expect(headers.get('strict-transport-security'), `${what}: no HSTS over plain HTTP`).to.equal(null);
}

/** A heartbeat comes every second; the dispatcher knows the frontend well within this. */
const DISPATCHER_KNOWS_FRONTEND_MS = 10_000;

/** The dispatcher's reply to `url`, once it has heard from a frontend (503 until then). */
async function dispatcherRedirect(url: string): Promise<Response> {
  const deadline = Date.now() + DISPATCHER_KNOWS_FRONTEND_MS;
  for (;;) {
    const reply = await fetch(url, { redirect: 'manual' });
    await reply.arrayBuffer();
    if (reply.status !== 503 || Date.now() > deadline) return reply;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('api: web hardening headers (real frontend and dispatcher)', function () {
  this.timeout(120_000);
  let cloud: Cloud;

  before(async () => {
    cloud = await startCloud({ frontends: 2, dispatcher: true });
  });

  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('the app page, a hashed asset, an API reply and error replies carry the app policy', async () => {
    const base = cloud.urls[0]!;
    const page = await fetch(`${base}/`);
    const html = await page.text();
    expect(page.status).to.equal(200);
    expectAppFields(page.headers, 'app page');
    const dispatcher = new URL(cloud.dispatcherUrl!);
    // The app asks the dispatcher for an image to find a way back, which it redirects to a
    // frontend: those origins, and no other.
    expect(directives(page.headers.get('content-security-policy')).get('img-src'))
      .to.deep.equal(["'self'", `http://${dispatcher.hostname}:${dispatcher.port}`, cloud.urls[1]!]);
    expect(html, 'no inline script in the app page').to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html, 'no inline style in the app page').to.not.match(/<style|style="/);

    const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(base + script);
    await asset.arrayBuffer();
    expect(asset.status).to.equal(200);
    expectAppFields(asset.headers, 'asset');

    const inApp = await fetch(`${base}/drive/some/folder`);
    await inApp.arrayBuffer();
    expectAppFields(inApp.headers, 'in-app path');

    const ann = await new ApiClient(base).signUpAndLogIn('ann');
    const listing = await ann.get('/');
    expect(listing.status).to.equal(200);
    expectAppFields(listing.headers, 'API reply');

    const unauthenticated = await new ApiClient(base).get('/');
    expect(unauthenticated.status).to.equal(401);
    expectAppFields(unauthenticated.headers, 'API 401');
    const missing = await ann.get('/nothing-here.txt');
    expect(missing.status).to.equal(404);
    expectAppFields(missing.headers, 'API 404');
    const wrongMethod = await fetch(`${base}/api/session`, { method: 'PATCH', headers: MARK });
    await wrongMethod.arrayBuffer();
    expect(wrongMethod.status).to.equal(405);
    expectAppFields(wrongMethod.headers, '405');

    // A request the HTTP server refuses before any handler sees it.
    const port = Number(new URL(base).port);
    const refused = parseRawReply(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'));
    expect(refused.status).to.equal(400);
    expectAppFields({ get: (name) => refused.headers.get(name) ?? null }, 'parse error 400');
  });

  it('a message\'s HTML and a user\'s file replace the app policy with a sandbox only the app may frame', async () => {
    const base = cloud.urls[0]!;
    const bob = await new ApiClient(base).signUpAndLogIn('bob');
    const sent = await bob.request('POST', '/api/mail/send', {
      json: { to: 'bob@localhost', subject: 'Styled', text: 'plain', html: '<p style="color:red">Hi</p><script>alert(1)</script>' },
    });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const inbox = await bob.request('GET', '/api/mail/folders/inbox');
    const id = inbox.json().messages[0].id as string;
    const frame = await bob.request('GET', `/api/mail/messages/${id}/html`);
    expect(frame.status).to.equal(200);
    expect(frame.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(frame.body.toString()).to.contain('<p style="color:red">Hi</p>');
    const policy = directives(frame.headers.get('content-security-policy'));
    expect(policy.get('sandbox')).to.deep.equal(['allow-popups', 'allow-popups-to-escape-sandbox']);
    expect(policy.get('default-src')).to.deep.equal(["'none'"]);
    expect(policy.get('style-src')).to.deep.equal(["'unsafe-inline'"]);
    expect(policy.get('frame-ancestors')).to.deep.equal(["'self'"]);
    expect(policy.has('script-src'), 'scripts fall under default-src none').to.equal(false);
    expect(frame.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
    expect(frame.headers.get('x-content-type-options')).to.equal('nosniff');
    const plainOnly = await bob.request('POST', '/api/mail/send', { json: { to: 'bob@localhost', subject: 'Plain', text: 'only text' } });
    expect(plainOnly.status).to.equal(201);
    const plainId = (await bob.request('GET', '/api/mail/folders/inbox')).json().messages
      .find((m: { subject: string }) => m.subject === 'Plain').id as string;
    const none = await bob.request('GET', `/api/mail/messages/${plainId}/html`);
    expect(none.status).to.equal(404);
    expect(none.json().error.message).to.contain('no HTML part');

    expect((await bob.put('/page.html', '<script>alert(1)</script>')).status).to.equal(201);
    const file = await bob.get('/page.html?inline=1');
    expect(file.status).to.equal(200);
    const filePolicy = directives(file.headers.get('content-security-policy'));
    expect(filePolicy.has('sandbox')).to.equal(true);
    expect(filePolicy.get('default-src')).to.deep.equal(["'none'"]);
    expect(filePolicy.get('frame-ancestors')).to.deep.equal(["'self'"]);
    expect(file.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
  });

  it('the dispatcher\'s redirect and its health reply carry a policy that loads nothing', async () => {
    const redirect = await dispatcherRedirect(`${cloud.dispatcherUrl!}/mail/inbox`);
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.get('location')).to.be.oneOf(cloud.urls.map((url) => `${url}/mail/inbox`));
    for (const [what, reply] of [['redirect', redirect], ['healthz', await fetch(`${cloud.dispatcherUrl!}/healthz`)]] as const) {
      const policy = directives(reply.headers.get('content-security-policy'));
      expect(policy.get('default-src'), what).to.deep.equal(["'none'"]);
      expect(policy.get('frame-ancestors'), what).to.deep.equal(["'none'"]);
      expect(reply.headers.get('x-frame-options'), what).to.equal('DENY');
      expect(reply.headers.get('x-content-type-options'), what).to.equal('nosniff');
      expect(reply.headers.get('referrer-policy'), what).to.equal('same-origin');
    }
  });
});
