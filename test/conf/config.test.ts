import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../conf/config.js';
import { REPO_ROOT } from '../support/roles.js';

function localConfig(): Record<string, any> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'conf/local.json'), 'utf8'));
}

function expectFieldError(mutate: (c: Record<string, any>) => void, field: string, message: RegExp): void {
  const config = localConfig();
  mutate(config);
  let caught: unknown;
  try {
    parseConfig(config, 'test.json');
  } catch (err) {
    caught = err;
  }
  expect(caught, 'the configuration should be refused').to.be.instanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.field).to.equal(field);
  expect(err.message).to.match(message);
  expect(err.message).to.contain('test.json');
}

describe('conf: the configuration loader', () => {
  it('accepts conf/local.json: 3 frontends, 9 nodes in 3 groups', () => {
    const config = parseConfig(localConfig());
    expect(config.frontends.map((f) => f.port)).to.deep.equal([8000, 8001, 8002]);
    expect(config.frontends[0]!.publicUrl).to.equal('http://127.0.0.1:8000');
    expect(config.kv.nodes).to.have.length(9);
    expect(config.kv.groups).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    expect(config.dispatcher.port).to.equal(9000);
    expect(config.coordinator.port).to.equal(9999);
  });

  it('without "https" serves plain HTTP; with it, default publicUrls are https and an http one is refused', () => {
    expect(parseConfig(localConfig()).https).to.equal(null);
    const config = localConfig();
    config.https = { keyFile: 'key.pem', certFile: 'cert.pem' };
    delete config.frontends[0].publicUrl;
    const parsed = parseConfig(config);
    expect(parsed.https).to.deep.equal({ keyFile: 'key.pem', certFile: 'cert.pem' });
    expect(parsed.frontends[0]!.publicUrl).to.equal('https://127.0.0.1:8000');
    expectFieldError((c) => {
      c.https = { keyFile: 'key.pem', certFile: 'cert.pem' };
      c.frontends[1].publicUrl = 'http://127.0.0.1:8001';
    }, 'frontends[1].publicUrl', /must be an https URL when "https" is configured/);
    expectFieldError((c) => { c.https = { keyFile: 'key.pem' }; }, 'https.certFile', /./);
    expectFieldError((c) => { c.https = { keyFile: 'k', certFile: 'c', caFile: 'x' }; }, 'https.caFile', /./);
  });

  it('names the field of a wrong type', () => {
    expectFieldError((c) => { c.frontends[1].port = '8001'; }, 'frontends[1].port', /must be an integer/);
  });

  it('names an out-of-range value', () => {
    expectFieldError((c) => { c.frontends[0].port = 70000; }, 'frontends[0].port', /between 1 and 65535/);
  });

  it('holds the IMAP autologout timer to the 30 minutes of RFC 3501 §5.4', () => {
    expectFieldError((c) => { c.imap = { idleTimeoutMs: 60_000 }; }, 'imap.idleTimeoutMs', /between 1800000 and/);
  });

  it('names an unknown setting (a typo would otherwise be silently ignored)', () => {
    expectFieldError((c) => { c.kv.memoryBudgetByte = 1; }, 'kv.memoryBudgetByte', /not a known setting/);
  });

  it('checks heartbeat interval x 3 < failure timeout', () => {
    expectFieldError((c) => { c.coordinator.heartbeatIntervalMs = 400; }, 'coordinator.failureTimeoutMs', /more than 3 x/);
  });

  it('checks the dispatcher drops frontends only after missed heartbeats', () => {
    expectFieldError((c) => { c.dispatcher.frontendTimeoutMs = 1500; }, 'dispatcher.frontendTimeoutMs', /twice/);
  });

  it('checks groups name known nodes, once each', () => {
    expectFieldError((c) => { c.kv.groups[2][2] = 42; }, 'kv.groups[2][2]', /not in kv.nodes/);
    expectFieldError((c) => { c.kv.groups[2][2] = 0; }, 'kv.groups[2][2]', /more than one group/);
  });

  it('checks tablets cover every row, in order', () => {
    expectFieldError((c) => { c.kv.tablets[0].start = 'a'; }, 'kv.tablets[0].start', /must start at ""/);
    expectFieldError((c) => { c.kv.tablets[2].start = 'c'; }, 'kv.tablets[2].start', /increasing order/);
    expectFieldError((c) => { c.kv.tablets[1].group = 3; }, 'kv.tablets[1].group', /between 0 and 2/);
  });

  it('checks a tablet fits in the memory budget', () => {
    expectFieldError((c) => { c.kv.memoryBudgetBytes = 8 * 1024 * 1024; }, 'kv.tabletSplitBytes', /must not exceed kv.memoryBudgetBytes/);
  });

  it('refuses two roles on one port', () => {
    expectFieldError((c) => { c.kv.nodes[4].port = 8001; }, 'kv.nodes[4].port', /already used by frontends\[1\]/);
  });

  it('refuses the wildcard address for a role others connect to, naming the field', () => {
    expectFieldError((c) => { c.kv.nodes[3].host = '0.0.0.0'; }, 'kv.nodes[3].host', /"0\.0\.0\.0" is the wildcard address.*name this host's own address/);
    expectFieldError((c) => { c.coordinator.host = '::'; }, 'coordinator.host', /"::" is the wildcard address/);
    expectFieldError((c) => { c.dispatcher.host = '0:0:0:0:0:0:0:0'; }, 'dispatcher.host', /wildcard/);
    expectFieldError((c) => { c.supervisor = { host: '0.0.0.0', port: 9998 }; }, 'supervisor.host', /wildcard/);
    expectFieldError((c) => { c.frontends[2].host = '0.0.0.0'; }, 'frontends[2].host', /wildcard.*publicUrl/);
  });

  it('lets a frontend with a publicUrl, and the mail servers, listen on every address', () => {
    const c = localConfig();
    c.frontends[0].host = '0.0.0.0';
    c.frontends[0].publicUrl = 'http://mail.example.org:8000';
    c.smtp.host = '::';
    c.pop3.host = '0.0.0.0';
    const config = parseConfig(c);
    expect(config.frontends[0]!.host).to.equal('0.0.0.0');
    expect(config.smtp.host).to.equal('::');
  });

  it('checks HTTP limits relate', () => {
    expectFieldError((c) => { c.http = { requestLineBytesMax: 9000, headBytesMax: 8000 }; }, 'http.requestLineBytesMax', /headBytesMax/);
  });
});
