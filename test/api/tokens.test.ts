/**
 * Personal access tokens through a real cloud, driven with curl the way a script would: `-u
 * ann:TOKEN -T file` and `Authorization: Bearer TOKEN`, with no cross-site header.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curl, type CurlReply } from '../support/curl.js';
import { cleanupTempDirs, killAllRoles, tempDir } from '../support/roles.js';
import { allRows, ApiClient, bytesFor, closeKvClients, errorOf, startCloud, type Cloud } from './cloud.js';

function errorIn(reply: CurlReply): { code: string; reason?: string; message: string } {
  return JSON.parse(reply.body.toString('utf8')).error;
}

describe('api: personal access tokens (curl against real frontends and KV nodes)', function () {
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

  async function makeToken(client: ApiClient, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const reply = await client.request('POST', '/api/tokens', { json: body });
    expect(reply.status, reply.body.toString()).to.equal(201);
    return { id: reply.json().token.id, secret: reply.json().secret };
  }

  it('curl -u ann:TOKEN -T uploads with no cross-site header, Bearer downloads it, and a cookie without the mark is still refused', async () => {
    const { secret } = await makeToken(ann, { name: 'backup script', scope: 'read-write' });
    expect(secret).to.match(/^pct_[0-9a-f]{16}_[A-Za-z0-9_-]{32}$/);
    const file = join(tempDir(), 'report.bin');
    const content = bytesFor(7, 300_000);
    writeFileSync(file, content);

    const put = await curl(['-u', `ann:${secret}`, '-T', file, `${cloud.urls[1]}/api/files/report.bin`]);
    expect(put.status, put.body.toString()).to.be.oneOf([200, 201]);
    const get = await curl(['-H', `Authorization: Bearer ${secret}`, `${cloud.urls[0]}/api/files/report.bin`]);
    expect(get.status).to.equal(200);
    expect(get.body.equals(content)).to.equal(true);
    // The file is ann's: her cookie session sees it in her drive.
    expect(await ann.names('/')).to.include('report.bin');

    // A cookie session keeps the cross-site guard: the same upload without the mark is 403.
    const cookiePut = await curl(['-H', `Cookie: ${ann.cookie}`, '-T', file, `${cloud.urls[0]}/api/files/other.bin`]);
    expect(cookiePut.status).to.equal(403);
    expect(errorIn(cookiePut).reason).to.equal('CROSS_SITE_CHECK');
    expect(await ann.names('/')).to.not.include('other.bin');

    // The token is a way into ann's own tree only, like her cookie: mail and the session say ann.
    const who = await curl(['-H', `Authorization: Bearer ${secret}`, `${cloud.urls[0]}/api/session`]);
    expect(who.status).to.equal(200);
    expect(JSON.parse(who.body.toString()).user.username).to.equal('ann');
    expect(JSON.parse(who.body.toString()).token.scope).to.equal('read-write');
  });

  it('a read token reads but cannot write; a revoked token stops at once; passwords and wrong owners are refused with a Bearer challenge', async () => {
    const writer = await makeToken(ann, { name: 'writer' });
    expect((await curl(['-H', `Authorization: Bearer ${writer.secret}`, '-X', 'POST', `${cloud.urls[0]}/api/folders/photos`])).status).to.equal(201);
    const reader = await makeToken(ann, { name: 'reader', scope: 'read' });
    const listing = await curl(['-u', `ann:${reader.secret}`, `${cloud.urls[0]}/api/files/`]);
    expect(listing.status).to.equal(200);
    expect(JSON.parse(listing.body.toString()).entries.map((e: { name: string }) => e.name)).to.include('photos');
    const refusedWrite = await curl(['-u', `ann:${reader.secret}`, '-X', 'DELETE', `${cloud.urls[0]}/api/files/photos`]);
    expect(refusedWrite.status).to.equal(403);
    expect(errorIn(refusedWrite)).to.include({ reason: 'TOKEN_READ_ONLY' });
    expect(await ann.names('/')).to.include('photos');

    // Revoked from the account (cookie session): the next request with it is 401, on any frontend.
    expect((await ann.request('DELETE', `/api/tokens/${writer.id}`, { headers: { 'x-penncloud-request': '1' } })).status).to.equal(204);
    const revoked = await curl(['-H', `Authorization: Bearer ${writer.secret}`, `${cloud.urls[1]}/api/files/`]);
    expect(revoked.status).to.equal(401);
    expect(errorIn(revoked).reason).to.equal('BAD_TOKEN');
    expect(revoked.headers).to.match(/^www-authenticate: Bearer realm="PennCloud"/im);
    expect(revoked.headers).to.not.match(/www-authenticate: Basic/i);

    const password = await curl(['-u', 'ann:correct horse', `${cloud.urls[0]}/api/files/`]);
    expect(password.status).to.equal(401);
    expect(errorIn(password)).to.include({ reason: 'PASSWORD_NOT_ACCEPTED' });
    expect(errorIn(password).message).to.contain('API token');
    const wrongOwner = await curl(['-u', `bob:${reader.secret}`, `${cloud.urls[0]}/api/files/`]);
    expect(wrongOwner.status).to.equal(401);
    const forged = await curl(['-H', `Authorization: Bearer ${reader.secret.slice(0, -1)}${reader.secret.endsWith('A') ? 'B' : 'A'}`, `${cloud.urls[0]}/api/files/`]);
    expect(forged.status).to.equal(401);
    const scheme = await curl(['-H', 'Authorization: Digest abc', `${cloud.urls[0]}/api/files/`]);
    expect(scheme.status).to.equal(401);
    expect(errorIn(scheme).reason).to.equal('BAD_AUTHORIZATION');
    // A bad token is not rescued by a good cookie sent along with it.
    const both = await curl(['-H', `Cookie: ${ann.cookie}`, '-H', 'Authorization: Bearer pct_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `${cloud.urls[0]}/api/files/`]);
    expect(both.status).to.equal(401);
  });

  it('tokens are managed only from a session: a token cannot make tokens or change the password; lists show no secrets; another user gets 404', async () => {
    const token = await makeToken(ann, { name: 'ci deploy', scope: 'read-write', expiresInDays: 30 });
    const mint = await curl(['-H', `Authorization: Bearer ${token.secret}`, '-H', 'Content-Type: application/json', '-d', '{"name":"more"}', `${cloud.urls[0]}/api/tokens`]);
    expect(mint.status).to.equal(403);
    expect(errorIn(mint).reason).to.equal('TOKEN_NOT_ALLOWED');
    const password = await curl(['-H', `Authorization: Bearer ${token.secret}`, '-X', 'PUT', '-H', 'Content-Type: application/json',
      '-d', '{"oldPassword":"correct horse","newPassword":"taken over"}', `${cloud.urls[0]}/api/users/me/password`]);
    expect(password.status).to.equal(403);
    expect((await new ApiClient(cloud.urls[0]!).logIn('ann', 'correct horse')).status).to.equal(200);

    const list = await ann.request('GET', '/api/tokens');
    expect(list.status).to.equal(200);
    const listed = list.json().tokens.find((t: { id: string }) => t.id === token.id);
    expect(listed).to.include({ name: 'ci deploy', scope: 'read-write' });
    expect(listed.expiresMs - listed.createdMs).to.equal(30 * 24 * 3600 * 1000);
    expect(list.body.toString()).to.not.contain(token.secret.split('_')[2]);

    // bob cannot see, use or revoke ann's token.
    expect((await bob.request('GET', '/api/tokens')).json().tokens).to.deep.equal([]);
    const steal = await bob.request('DELETE', `/api/tokens/${token.id}`, { headers: { 'x-penncloud-request': '1' } });
    expect(steal.status).to.equal(404);
    expect(errorOf(steal).reason).to.equal('NO_SUCH_TOKEN');
    expect((await curl(['-H', `Authorization: Bearer ${token.secret}`, `${cloud.urls[0]}/api/files/`])).status).to.equal(200);

    // The store keeps a hash: no row or cell holds the secret part of any token.
    const kv = cloud.kvClient();
    {
      const rows = await allRows(kv);
      const secretPart = token.secret.split('_')[2]!;
      for (const row of rows.filter((r) => r.includes(':token'))) {
        const { columns } = await kv.listColumns(row, { limit: 100 });
        for (const { column } of columns) {
          const value = await kv.get(row, column);
          expect(`${row} ${column} ${value?.toString('utf8')}`).to.not.contain(secretPart);
        }
      }
      expect(rows.some((r) => r.endsWith(`:token:${token.id}`))).to.equal(true);
    }
  });

  it('names the problem with a bad name, scope or expiry, and stops at the per-user limit', async () => {
    const carol = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('carol');
    for (const [body, reason] of [
      [{}, 'BAD_TOKEN_NAME'], [{ name: '   ' }, 'BAD_TOKEN_NAME'], [{ name: 'x'.repeat(65) }, 'BAD_TOKEN_NAME'],
      [{ name: 'a', scope: 'admin' }, 'BAD_TOKEN_SCOPE'], [{ name: 'a', expiresInDays: 0 }, 'BAD_TOKEN_EXPIRY'],
      [{ name: 'a', expiresInDays: 366 }, 'BAD_TOKEN_EXPIRY'], [{ name: 'a', expiresInDays: 1.5 }, 'BAD_TOKEN_EXPIRY'],
    ] as const) {
      const reply = await carol.request('POST', '/api/tokens', { json: body });
      expect(reply.status, JSON.stringify(body)).to.equal(400);
      expect(errorOf(reply).reason).to.equal(reason);
    }
    for (let i = 0; i < 20; i++) await makeToken(carol, { name: `token ${i}` });
    const over = await carol.request('POST', '/api/tokens', { json: { name: 'one too many' } });
    expect(over.status).to.equal(409);
    expect(errorOf(over)).to.include({ reason: 'TOO_MANY_TOKENS' });
    expect((await carol.request('GET', '/api/tokens')).json().tokens).to.have.length(20);
    // Unsigned, the token routes are 401 like the rest of the API.
    expect((await new ApiClient(cloud.urls[0]!).request('GET', '/api/tokens')).status).to.equal(401);
  });
});
