import { expect } from 'chai';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, stopRole, tempDir, writeTestConfig } from '../support/roles.js';
import { readFileSync } from 'node:fs';

describe('cli: penncloud up', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('starts every frontend, waits for them, and stops them all on SIGINT', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { frontends: 3 });
    const ports = (JSON.parse(readFileSync(conf, 'utf8')) as { frontends: Array<{ port: number }> }).frontends.map((f) => f.port);
    const up = await startRole(['up', '--conf', conf, '--data', join(dir, 'data')]);
    expect(up.stdout()).to.contain('PennCloud is up');
    for (const port of ports) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).to.equal(200);
      expect(up.stdout()).to.contain(`http://127.0.0.1:${port}`);
    }
    expect(await stopRole(up, 'SIGINT')).to.equal(0);
    for (const port of ports) {
      let refused = false;
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`);
      } catch {
        refused = true;
      }
      expect(refused, `frontend on ${port} should be stopped`).to.equal(true);
    }
  });
});
