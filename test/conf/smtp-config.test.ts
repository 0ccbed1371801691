import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../conf/config.js';
import { REPO_ROOT } from '../support/roles.js';

function localConfig(): Record<string, any> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'conf/local.json'), 'utf8'));
}

function refusal(smtp: Record<string, unknown>): ConfigError {
  const config = localConfig();
  config.smtp = { ...config.smtp, ...smtp };
  try {
    parseConfig(config, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the configuration should be refused');
}

describe('conf: the smtp section (mail identity)', () => {
  it('defaults: strangers claiming a local sender are marked, 60 messages a minute per address', () => {
    const { smtp } = parseConfig(localConfig());
    expect(smtp).to.include({ localSenderPolicy: 'mark', unauthenticatedMessagesPerWindow: 60, unauthenticatedWindowMs: 60_000 });
  });

  it('accepts "refuse" and other counts', () => {
    const c = localConfig();
    c.smtp = { ...c.smtp, localSenderPolicy: 'refuse', unauthenticatedMessagesPerWindow: 5, unauthenticatedWindowMs: 10_000 };
    expect(parseConfig(c).smtp).to.include({ localSenderPolicy: 'refuse', unauthenticatedMessagesPerWindow: 5, unauthenticatedWindowMs: 10_000 });
  });

  it('names the field of every bad value', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ localSenderPolicy: 'drop' }, 'smtp.localSenderPolicy', /must be one of "mark", "refuse"/],
      [{ unauthenticatedMessagesPerWindow: 0 }, 'smtp.unauthenticatedMessagesPerWindow', /between 1 and/],
      [{ unauthenticatedMessagesPerWindow: 'many' }, 'smtp.unauthenticatedMessagesPerWindow', /must be an integer/],
      [{ unauthenticatedWindowMs: 10 }, 'smtp.unauthenticatedWindowMs', /between 1000 and/],
      [{ senderPolicy: 'mark' }, 'smtp.senderPolicy', /not a known setting/],
    ];
    for (const [smtp, field, message] of cases) {
      const err = refusal(smtp);
      expect(err.field).to.equal(field);
      expect(err.message).to.match(message).and.contain('test.json');
    }
  });
});
