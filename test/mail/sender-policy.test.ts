import { expect } from 'chai';
import { InboundRateLimit } from '../../lib/mail/inbound-rate.js';
import { checkEnvelopeSender, checkHeaderFrom, claimsLocalSender } from '../../lib/mail/sender-policy.js';
import { parseAddressList } from '../../lib/services/mime/address-list.js';

const DOMAIN = 'penn.test';

describe('sender policy: whose address a message may carry', () => {
  const envelopeCases: Array<[string, string, string | null]> = [
    ['bob@penn.test', 'bob', null],
    ['Bob@PENN.test', 'bob', null],
    ['bob@penn.test', 'Bob', null],
    ['operator@penn.test', 'bob', '553 5.7.1 Sender address <operator@penn.test> is not yours (logged in as bob)'],
    ['bob@elsewhere.test', 'bob', '553 5.7.1 Sender address <bob@elsewhere.test> is not yours (logged in as bob)'],
    ['', 'bob', '553 5.7.1 Sender address <> is not yours (logged in as bob)'],
    ['bobby@penn.test', 'bob', '553 5.7.1 Sender address <bobby@penn.test> is not yours (logged in as bob)'],
  ];
  for (const [mailFrom, user, expected] of envelopeCases) {
    it(`MAIL FROM:<${mailFrom}> logged in as ${user}: ${expected ?? 'taken'}`, () => {
      const refusal = checkEnvelopeSender(mailFrom, user, DOMAIN);
      expect(refusal === null ? null : `${refusal.code} ${refusal.text}`).to.equal(expected);
    });
  }

  const headerCases: Array<[string | undefined, string | null]> = [
    ['bob@penn.test', null],
    ['Bob Builder <bob@penn.test>', null],
    ['"Builder, Bob" <BOB@penn.test>', null],
    ['operator@penn.test', '550 5.7.1 From: header <operator@penn.test> is not yours (logged in as bob)'],
    ['Bob <operator@penn.test>', '550 5.7.1 From: header <operator@penn.test> is not yours (logged in as bob)'],
    ['bob@penn.test, operator@penn.test', '550 5.7.1 From: header <bob@penn.test>, <operator@penn.test> is not yours (logged in as bob)'],
    [undefined, '550 5.7.1 From: header (none) is not yours (logged in as bob)'],
  ];
  for (const [from, expected] of headerCases) {
    it(`From: ${from ?? '(absent)'} logged in as bob: ${expected ?? 'taken'}`, () => {
      const refusal = checkHeaderFrom(parseAddressList(from), 'bob', DOMAIN);
      expect(refusal === null ? null : `${refusal.code} ${refusal.text}`).to.equal(expected);
    });
  }

  const claimCases: Array<[string, string | undefined, boolean]> = [
    ['x@example.org', 'Sender <x@example.org>', false],
    ['operator@penn.test', 'x@example.org', true],
    ['x@example.org', 'Operator <operator@PENN.TEST>', true],
    ['', 'nobody@penn.test', true],
    ['', undefined, false],
    ['x@sub.penn.test', 'x@sub.penn.test', false],
  ];
  for (const [mailFrom, from, expected] of claimCases) {
    it(`a stranger with MAIL FROM:<${mailFrom}> and From: ${from ?? '(absent)'} ${expected ? 'claims' : 'does not claim'} a local sender`, () => {
      expect(claimsLocalSender(mailFrom, parseAddressList(from), DOMAIN)).to.equal(expected);
    });
  }
});

describe('inbound rate limit per client address', () => {
  it('takes messagesPerWindow in a window, then names the wait until the window ends', () => {
    const limit = new InboundRateLimit(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(limit.waitSeconds('10.0.0.1', 1_000 + i)).to.equal(0);
      limit.record('10.0.0.1', 1_000 + i);
    }
    expect(limit.waitSeconds('10.0.0.1', 1_010)).to.equal(60);
    expect(limit.waitSeconds('10.0.0.1', 45_500)).to.equal(16);
    expect(limit.waitSeconds('10.0.0.2', 1_010), 'another address counts apart').to.equal(0);
    expect(limit.waitSeconds('10.0.0.1', 61_000), 'a new window').to.equal(0);
  });

  it('tracks at most its named number of clients, forgetting the oldest', () => {
    const limit = new InboundRateLimit(1, 60_000, 100);
    for (let i = 0; i < 250; i++) limit.record(`10.0.${i >> 8}.${i & 255}`, 1_000);
    expect(limit.size).to.equal(100);
    expect(limit.waitSeconds('10.0.0.0', 1_000), 'the oldest was forgotten').to.equal(0);
    expect(limit.waitSeconds('10.0.0.249', 1_000), 'the newest is remembered').to.equal(60);
  });
});
