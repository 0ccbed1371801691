import { expect } from 'chai';
import { compilePattern, joinPattern, matchPattern } from '../../lib/router/route-pattern.js';
import { PennError } from '../../lib/protocol/errors.js';

describe('router: route patterns', () => {
  const cases: Array<[string, string, Record<string, string> | null]> = [
    ['/healthz', '/healthz', {}],
    ['/healthz', '/healthz/', {}],
    ['/healthz', '/health', null],
    ['/healthz', '/healthz/x', null],
    ['/api/mail/messages/:id', '/api/mail/messages/42', { id: '42' }],
    ['/api/mail/messages/:id', '/api/mail/messages/', null],
    ['/api/mail/messages/:id', '/api/mail/messages/a%2Fb', { id: 'a/b' }],
    ['/api/mail/messages/:id/attachments/:n', '/api/mail/messages/m1/attachments/2', { id: 'm1', n: '2' }],
    ['/api/files/*path', '/api/files/docs/My%20Report.pdf', { path: 'docs/My Report.pdf' }],
    ['/api/files/*path', '/api/files', { path: '' }],
    ['/api/files/*path', '/api/filesX', null],
    ['/', '/', {}],
    ['/', '/x', null],
  ];
  for (const [pattern, path, expected] of cases) {
    it(`${pattern} against ${path}`, () => {
      expect(matchPattern(compilePattern(pattern), path)).to.deep.equal(expected);
    });
  }

  it('refuses a bad percent-encoding in a parameter with BAD_REQUEST', () => {
    expect(() => matchPattern(compilePattern('/a/:x'), '/a/%E0%A4%A')).to.throw(PennError).with.property('code', 'BAD_REQUEST');
  });

  it('rejects malformed patterns', () => {
    expect(() => compilePattern('no-slash')).to.throw(/must start/);
    expect(() => compilePattern('/a/*rest/b')).to.throw(/last segment/);
    expect(() => compilePattern('/a/:9x')).to.throw(/parameter name/);
  });

  it('joins a mount prefix and a route', () => {
    expect(joinPattern('/api/mail', '/')).to.equal('/api/mail');
    expect(joinPattern('/api/mail/', '/folders/:f')).to.equal('/api/mail/folders/:f');
    expect(joinPattern('/', '/')).to.equal('/');
  });
});
