import { expect } from 'chai';
import { parseCookies, serializeCookie } from '../../lib/router/cookies.js';

describe('router: cookies (RFC 6265)', () => {
  it('parses pairs across several Cookie headers, first name wins', () => {
    const cookies = parseCookies(['sid=abc123; theme=dark', 'sid=other; lang="en"']);
    expect([...cookies]).to.deep.equal([['sid', 'abc123'], ['theme', 'dark'], ['lang', 'en']]);
  });

  it('skips malformed pairs but keeps the good ones', () => {
    const cookies = parseCookies(['junk; =novalue; bad name=1; ok=1; semi=a"b; empty='] );
    expect([...cookies]).to.deep.equal([['ok', '1'], ['empty', '']]);
  });

  it('writes Set-Cookie with every attribute', () => {
    const line = serializeCookie('sid', 'f00d', { httpOnly: true, sameSite: 'Lax', path: '/', maxAgeSeconds: 3600, secure: true });
    expect(line).to.equal('sid=f00d; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax');
  });

  it('deletes with Max-Age=0', () => {
    expect(serializeCookie('sid', '', { maxAgeSeconds: 0, path: '/' })).to.equal('sid=; Max-Age=0; Path=/');
  });

  it('refuses values that would break the header', () => {
    expect(() => serializeCookie('sid', 'a;b')).to.throw(/invalid cookie value/);
    expect(() => serializeCookie('s id', 'a')).to.throw(/invalid cookie name/);
    expect(() => serializeCookie('sid', 'a', { path: '/;x' })).to.throw(/invalid cookie path/);
    expect(() => serializeCookie('sid', 'a', { sameSite: 'None' })).to.throw(/Secure/);
  });
});
