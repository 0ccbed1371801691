import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanupTempDirs, killAllRoles, runPenncloud, startRole, stopRole, tempDir, writeTestConfig } from '../support/roles.js';

const run = promisify(execFile);

describe('cli: penncloud frontend', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('serves /healthz and the placeholder page; curl sees them', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir);
    const role = await startRole(['frontend', '--id', '1', '--conf', conf, '--data', join(dir, 'data')]);
    const url = role.ready;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await run('curl', ['-sS', '-i', `${url}/healthz`]);
    expect(health.stdout).to.match(/^HTTP\/1\.1 200 /);
    expect(health.stdout).to.match(/\r\n\r\nok\n$/);
    const page = await fetch(`${url}/`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('<h1>PennCloud</h1>');
    expect(await stopRole(role)).to.equal(0);
  });

  it('refuses a bad configuration with a message naming the field', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { patch: (c) => { c.frontends[0].port = 'eighty'; } });
    const result = await runPenncloud(['frontend', '--id', '1', '--conf', conf]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('field "frontends[0].port": must be an integer');
  });

  it('refuses a configuration that is not JSON, naming the file', async () => {
    const dir = tempDir();
    const conf = join(dir, 'broken.json');
    writeFileSync(conf, '{ "frontends": [ ');
    const result = await runPenncloud(['frontend', '--id', '1', '--conf', conf]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`${conf}: field "(file)": is not valid JSON`);
  });

  it('explains usage: --help lists the roles, a missing --id is an error', async () => {
    const help = await runPenncloud(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout.toString()).to.match(/^\s+up\s/m).and.match(/^\s+frontend\s/m);
    const frontendHelp = await runPenncloud(['frontend', '--help']);
    expect(frontendHelp.stdout.toString()).to.contain('--id N').and.contain('--conf FILE').and.contain('--data DIR');
    const missing = await runPenncloud(['frontend']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('option --id is required');
    const unknown = await runPenncloud(['fly']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('unknown command "fly"');
  });
});

describe('cli: frontend readiness', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('/readyz is 503 while the store is unreachable and 200 once it answers; /healthz is 200 throughout', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { patch: (c) => { c.kv.requestTimeoutMs = 2_000; } });
    const data = join(dir, 'data');
    const frontend = await startRole(['frontend', '--id', '1', '--conf', conf, '--data', data]);
    const notReady = await fetch(`${frontend.ready}/readyz`);
    expect(notReady.status).to.equal(503);
    expect(await notReady.text()).to.match(/^not ready: /);
    expect((await fetch(`${frontend.ready}/healthz`)).status).to.equal(200);
    // One replica group of three: it serves once the coordinator has named its primary.
    await startRole(['coordinator', '--conf', conf, '--data', data]);
    await Promise.all([0, 1, 2].map((id) => startRole(['kvnode', '--id', String(id), '--conf', conf, '--data', data])));
    const deadline = Date.now() + 30_000;
    let status = 0;
    let body = '';
    while (Date.now() < deadline && status !== 200) {
      const res = await fetch(`${frontend.ready}/readyz`);
      status = res.status;
      body = await res.text();
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status, body).to.equal(200);
  });
});
