import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, stopRole, tempDir, writeTestConfig, isListening } from '../support/roles.js';
import { ApiClient } from '../api/cloud.js';


describe('cli: penncloud up (the whole cloud in one command)', function () {
  this.timeout(180_000);
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('comes up from a fresh data directory, serves a user through the dispatcher, keeps data across restarts, stops cleanly', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { frontends: 3 });
    const c = JSON.parse(readFileSync(conf, 'utf8')) as {
      frontends: Array<{ port: number }>; dispatcher: { port: number }; smtp: { port: number }; pop3: { port: number }; imap: { port: number }; kv: { nodes: Array<{ port: number }> };
    };
    const data = join(dir, 'data');
    let up = await startRole(['up', '--conf', conf, '--data', data]);
    expect(up.stdout()).to.contain('PennCloud is up');
    for (const name of ['coordinator', 'kvnode-0', 'kvnode-1', 'kvnode-2', 'frontend-1', 'frontend-2', 'frontend-3', 'smtp', 'pop3', 'imap', 'dispatcher']) {
      expect(up.stdout(), name).to.match(new RegExp(`^\\s+${name}\\s`, 'm'));
    }

    // A user knows only the dispatcher: it redirects to a frontend, where everything happens.
    const dispatcher = `http://127.0.0.1:${c.dispatcher.port}`;
    // The first heartbeats are datagrams on their way: allow them a bounded moment.
    let first = await fetch(`${dispatcher}/`, { redirect: 'manual' });
    for (let i = 0; i < 100 && first.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      first = await fetch(`${dispatcher}/`, { redirect: 'manual' });
    }
    expect(first.status).to.equal(301);
    const frontend = new URL(first.headers.get('location')!).origin;
    expect(c.frontends.map((f) => `http://127.0.0.1:${f.port}`)).to.include(frontend);
    const page = await fetch(`${dispatcher}/`);
    expect(page.status).to.equal(200);

    const ann = await new ApiClient(frontend).signUpAndLogIn('ann');
    expect((await ann.put('/notes.txt', 'kept across restarts')).status).to.equal(201);
    const sent = await ann.request('POST', '/api/mail/send', { json: { to: 'ann@localhost', subject: 'hello me', text: 'x' } });
    expect(sent.status).to.equal(201);

    expect(await stopRole(up, 'SIGINT')).to.equal(0);
    for (const port of [...c.frontends.map((f) => f.port), c.dispatcher.port, c.smtp.port, c.pop3.port, c.imap.port, ...c.kv.nodes.map((n) => n.port)]) {
      expect(await isListening(port), `port ${port} should be closed`).to.equal(false);
    }

    // A second start finds everything again.
    up = await startRole(['up', '--conf', conf, '--data', data]);
    const again = new ApiClient(frontend);
    expect((await again.logIn('ann', 'correct horse')).status).to.equal(200);
    expect((await again.get('/notes.txt')).body.toString()).to.equal('kept across restarts');
    const inbox = (await again.request('GET', '/api/mail/folders/inbox')).json().messages;
    expect(inbox.map((m: { subject: string }) => m.subject)).to.deep.equal(['hello me']);
    expect(await stopRole(up, 'SIGTERM')).to.equal(0);
  });
});

describe('cli: penncloud up leaves no orphans', function () {
  this.timeout(120_000);
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('when up itself is killed -9, every role it started stops too', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { frontends: 1 });
    const c = JSON.parse(readFileSync(conf, 'utf8')) as { frontends: Array<{ port: number }>; kv: { nodes: Array<{ port: number }> } };
    const up = await startRole(['up', '--conf', conf, '--data', join(dir, 'data')]);
    expect(await stopRole(up, 'SIGKILL')).to.equal('SIGKILL');
    const ports = [c.frontends[0]!.port, ...c.kv.nodes.map((n) => n.port)];
    const deadline = Date.now() + 30_000;
    let open = ports;
    while (open.length > 0 && Date.now() < deadline) {
      const results = await Promise.all(open.map((port) => isListening(port).then((yes) => (yes ? port : null))));
      open = results.filter((p): p is number => p !== null);
      if (open.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(open, 'ports still served after up died').to.deep.equal([]);
  });
});
