import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, stopRole, tempDir, writeTestConfig, type RoleProcess } from '../support/roles.js';

/** Bound on waiting for the dispatcher to notice a change (heartbeats every 200 ms here). */
const NOTICE_TIMEOUT_MS = 15_000;

interface Cloud {
  dir: string;
  conf: string;
  dispatcherUrl: string;
  frontendUrls: string[];
  frontends: RoleProcess[];
}

async function startCloud(policy: 'random' | 'least-load', frontendTimeoutMs = 1_000): Promise<Cloud> {
  const dir = tempDir();
  const conf = await writeTestConfig(dir, {
    frontends: 2,
    patch: (c) => {
      c.dispatcher = { ...c.dispatcher, policy, heartbeatIntervalMs: 200, frontendTimeoutMs };
      // Connections the least-load test holds open must outlive a slow run.
      c.http = { headTimeoutMs: 120_000, idleTimeoutMs: 120_000 };
    },
  });
  const data = join(dir, 'data');
  const dispatcher = await startRole(['dispatcher', '--conf', conf, '--data', data]);
  const frontends = [
    await startRole(['frontend', '--id', '1', '--conf', conf, '--data', data]),
    await startRole(['frontend', '--id', '2', '--conf', conf, '--data', data]),
  ];
  return { dir, conf, dispatcherUrl: dispatcher.ready, frontendUrls: frontends.map((f) => f.ready), frontends };
}

/** Asks the dispatcher once; returns the status and Location without following it. */
async function ask(url: string): Promise<{ status: number; location: string | null; cacheControl: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location'), cacheControl: res.headers.get('cache-control') };
}

/** Polls `probe` until it returns true, failing after `timeoutMs`. Each try is one request. */
async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = NOTICE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

describe('dispatcher: redirects over live frontends (real processes)', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('redirects with 301, no-store, same path and query, to every live frontend', async () => {
    const cloud = await startCloud('random');
    const seen = new Set<string>();
    await eventually('both frontends have been offered', async () => {
      const reply = await ask(`${cloud.dispatcherUrl}/api/files/a%20b?x=1&y=2`);
      expect(reply.status).to.equal(301);
      expect(reply.cacheControl).to.equal('no-store');
      const origin = cloud.frontendUrls.find((u) => reply.location === `${u}/api/files/a%20b?x=1&y=2`);
      expect(origin, `unexpected Location ${reply.location}`).to.not.equal(undefined);
      seen.add(origin!);
      return seen.size === 2;
    });
    const followed = await fetch(`${cloud.dispatcherUrl}/healthz`);
    expect(followed.status).to.equal(200);
  });

  it('stops sending users to a killed frontend, and gives 503 when none is left', async () => {
    const cloud = await startCloud('random');
    await eventually('frontend 1 is offered', async () => (await ask(cloud.dispatcherUrl)).location === `${cloud.frontendUrls[0]}/`);
    await stopRole(cloud.frontends[0]!, 'SIGKILL');
    await eventually('frontend 1 is dropped', async () => {
      for (let i = 0; i < 20; i++) {
        if ((await ask(cloud.dispatcherUrl)).location === `${cloud.frontendUrls[0]}/`) return false;
      }
      return true;
    });
    for (let i = 0; i < 20; i++) expect((await ask(cloud.dispatcherUrl)).location).to.equal(`${cloud.frontendUrls[1]}/`);
    await stopRole(cloud.frontends[1]!, 'SIGKILL');
    await eventually('no frontend is left', async () => (await ask(cloud.dispatcherUrl)).status === 503);
    const page = await fetch(cloud.dispatcherUrl, { redirect: 'manual' });
    expect(page.status).to.equal(503);
    expect(page.headers.get('retry-after')).to.equal('1');
    expect(await page.text()).to.contain('No frontend is running right now');
  });

  it('sends no one to a frontend that stopped gracefully, long before its heartbeats would be missed', async () => {
    // A minute of silence before a dead frontend is dropped: only its own word can drop it sooner.
    const cloud = await startCloud('random', 60_000);
    await eventually('frontend 1 is offered', async () => (await ask(cloud.dispatcherUrl)).location === `${cloud.frontendUrls[0]}/`);
    await stopRole(cloud.frontends[0]!, 'SIGTERM');
    await eventually('frontend 1 is no longer offered', async () => {
      for (let i = 0; i < 20; i++) if ((await ask(cloud.dispatcherUrl)).location !== `${cloud.frontendUrls[1]}/`) return false;
      return true;
    }, 10_000);
  });

  it('takes a restarted frontend back', async () => {
    const cloud = await startCloud('random');
    await stopRole(cloud.frontends[1]!, 'SIGKILL');
    await eventually('frontend 2 is dropped', async () => {
      for (let i = 0; i < 20; i++) if ((await ask(cloud.dispatcherUrl)).location === `${cloud.frontendUrls[1]}/`) return false;
      return true;
    });
    const again = await startRole(['frontend', '--id', '2', '--conf', cloud.conf, '--data', join(cloud.dir, 'data')]);
    expect(again.ready).to.equal(cloud.frontendUrls[1]);
    await eventually('frontend 2 is offered again', async () => (await ask(cloud.dispatcherUrl)).location === `${cloud.frontendUrls[1]}/`);
  });

  it('least-load sends users to the idle frontend', async () => {
    const cloud = await startCloud('least-load');
    const busyPort = Number(new URL(cloud.frontendUrls[0]!).port);
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        held.push(await new Promise<Socket>((resolve, reject) => {
          const s = connect(busyPort, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        }));
      }
      // Once a heartbeat reports the 30 open connections, every user goes to frontend 2.
      await eventually('the busy frontend is avoided', async () => {
        for (let i = 0; i < 10; i++) if ((await ask(cloud.dispatcherUrl)).location !== `${cloud.frontendUrls[1]}/`) return false;
        return true;
      });
    } finally {
      for (const s of held) s.destroy();
    }
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { dispatcher: { policy: string } };
    expect(conf.dispatcher.policy).to.equal('least-load');
  });
});
