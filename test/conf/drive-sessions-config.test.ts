import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../conf/config.js';
import { REPO_ROOT } from '../support/roles.js';

function localConfig(): Record<string, any> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'conf/local.json'), 'utf8'));
}

function refusal(mutate: (c: Record<string, any>) => void): ConfigError {
  const config = localConfig();
  mutate(config);
  try {
    parseConfig(config, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the configuration should be refused');
}

describe('conf: the drive and sessions sections', () => {
  it('defaults: 1 MiB chunks, a 10 GiB quota, 30 days in the trash, sessions idle after a day and at most a week old', () => {
    const config = parseConfig(localConfig());
    expect(config.drive).to.deep.equal({ chunkBytes: 1024 * 1024, quotaBytes: 10 * 1024 * 1024 * 1024, uploadStaleMs: 600_000, trashRetentionDays: 30 });
    expect(config.sessions).to.deep.equal({ idleTimeoutMs: 86_400_000, absoluteTimeoutMs: 7 * 86_400_000 });
  });

  it('accepts explicit values', () => {
    const c = localConfig();
    c.drive = { chunkBytes: 65_536, quotaBytes: 1_000_000, uploadStaleMs: 60_000, trashRetentionDays: 7 };
    c.sessions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 };
    const config = parseConfig(c);
    expect(config.drive).to.deep.equal(c.drive);
    expect(config.sessions).to.deep.equal(c.sessions);
  });

  it('names the field of every bad value', () => {
    const cases: [(c: Record<string, any>) => void, string, RegExp][] = [
      [(c) => { c.drive = { chunkBytes: 'big' }; }, 'drive.chunkBytes', /must be an integer/],
      [(c) => { c.drive = { chunkBytes: 100 }; }, 'drive.chunkBytes', /between 4096 and/],
      [(c) => { c.drive = { quotaBytes: -1 }; }, 'drive.quotaBytes', /between 0 and/],
      [(c) => { c.drive = { chunks: 1 }; }, 'drive.chunks', /not a known setting/],
      [(c) => { c.drive = { trashRetentionDays: 0 }; }, 'drive.trashRetentionDays', /between 1 and 3650/],
      [(c) => { c.sessions = { idleTimeoutMs: 5 }; }, 'sessions.idleTimeoutMs', /between 1000 and/],
      [(c) => { c.sessions = []; }, 'sessions', /must be an object/],
    ];
    for (const [mutate, field, message] of cases) {
      const err = refusal(mutate);
      expect(err.field).to.equal(field);
      expect(err.message).to.match(message).and.contain('test.json');
    }
  });

  it('checks relations: a chunk must fit in one KV value; idle timeout within the absolute one', () => {
    const chunk = refusal((c) => { c.kv.valueBytesMax = 1024 * 1024; c.drive = { chunkBytes: 2 * 1024 * 1024 }; });
    expect(chunk.field).to.equal('drive.chunkBytes');
    expect(chunk.message).to.contain('must not exceed kv.valueBytesMax (1048576)');
    const stale = refusal((c) => { c.kv.requestTimeoutMs = 5_000; c.drive = { uploadStaleMs: 9_000 }; });
    expect(stale.field).to.equal('drive.uploadStaleMs');
    expect(stale.message).to.contain('must be at least 2 x kv.requestTimeoutMs (5000 ms)');
    const idle = refusal((c) => { c.sessions = { idleTimeoutMs: 7_200_000, absoluteTimeoutMs: 3_600_000 }; });
    expect(idle.field).to.equal('sessions.idleTimeoutMs');
    expect(idle.message).to.contain('must not exceed sessions.absoluteTimeoutMs');
  });
});
