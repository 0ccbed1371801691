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

  it('checks HTTP limits relate', () => {
    expectFieldError((c) => { c.http = { requestLineBytesMax: 9000, headBytesMax: 8000 }; }, 'http.requestLineBytesMax', /headBytesMax/);
  });
});
