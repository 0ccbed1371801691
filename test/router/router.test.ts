import { expect } from 'chai';
import { Controller, Router, type RouteTable } from '../../lib/router/router.js';
import { PennError } from '../../lib/protocol/errors.js';
import { createLogger } from '../../lib/protocol/log.js';
import type { RequestContext } from '../../lib/router/context.js';
import { parseRawReply, rawExchange, startServer, type RunningServer } from '../support/http-harness.js';

class NotesController extends Controller {
  readonly notes = new Map<string, string>([['1', 'first']]);
  constructor(private readonly trail: string[]) {
    super();
    this.middleware.push(async (ctx, next) => {
      this.trail.push('notes-mw');
      if (ctx.req.headers.get('x-token') !== 'letmein') throw new PennError('UNAUTHENTICATED', 'sign in first');
      await next();
    });
  }
  routes(table: RouteTable): void {
    table.get('/', (ctx) => ctx.json(200, [...this.notes.keys()]));
    table.get('/:id', (ctx) => this.read(ctx));
    table.put('/:id', async (ctx) => {
      const body = (await ctx.readJson(64)) as { text?: unknown };
      if (typeof body.text !== 'string') throw new PennError('BAD_REQUEST', 'text must be a string');
      this.notes.set(ctx.params.id!, body.text);
      ctx.json(200, { id: ctx.params.id, text: body.text });
    });
    table.delete('/:id', (ctx) => {
      this.notes.delete(ctx.params.id!);
      ctx.empty(204);
    });
  }
  private read(ctx: RequestContext): void {
    const text = this.notes.get(ctx.params.id!);
    if (text === undefined) throw new PennError('NOT_FOUND', `no note ${ctx.params.id}`);
    ctx.json(200, { id: ctx.params.id, text });
  }
}

describe('router: routes, controllers and middleware over a real server', () => {
  let running: RunningServer;
  let trail: string[];

  beforeEach(async () => {
    trail = [];
    const router = new Router(createLogger('test-router'));
    router.use(async (ctx, next) => {
      trail.push(`global ${ctx.req.method} ${ctx.req.path}`);
      await next();
    });
    router.mount('/api/notes', new NotesController(trail));
    router.add('GET', '/boom', () => { throw new Error('secret database password is hunter2'); });
    router.add('GET', '/echo/*rest', (ctx) => ctx.json(200, { rest: ctx.params.rest, q: ctx.query.get('q') }));
    router.add('GET', '/cookies', (ctx) => {
      ctx.setCookie('a', '1', { path: '/' });
      ctx.setCookie('b', '2', { httpOnly: true, sameSite: 'Lax' });
      ctx.json(200, Object.fromEntries(ctx.cookies));
    });
    running = await startServer(router.handle);
  });
  afterEach(async () => {
    await running.close();
  });

  const auth = { 'x-token': 'letmein' };

  it('routes to a controller under its prefix, with decoded parameters', async () => {
    const res = await fetch(`${running.url}/api/notes/1`, { headers: auth });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ id: '1', text: 'first' });
    expect(trail).to.deep.equal(['global GET /api/notes/1', 'notes-mw']);
  });

  it('runs controller middleware that can refuse before the handler', async () => {
    const res = await fetch(`${running.url}/api/notes/1`);
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({ error: { code: 'UNAUTHENTICATED', message: 'sign in first' } });
  });

  it('gives 404 with a JSON error for an unknown path', async () => {
    const res = await fetch(`${running.url}/nowhere`);
    expect(res.status).to.equal(404);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).to.equal('NOT_FOUND');
  });

  it('gives 405 with Allow for a known path and a wrong method', async () => {
    const res = await fetch(`${running.url}/api/notes/1`, { method: 'POST', headers: auth });
    expect(res.status).to.equal(405);
    expect(res.headers.get('allow')).to.equal('GET, HEAD, PUT, DELETE, OPTIONS');
  });

  it('answers OPTIONS with Allow, and OPTIONS * for the whole server', async () => {
    const res = await fetch(`${running.url}/api/notes/1`, { method: 'OPTIONS' });
    expect(res.status).to.equal(204);
    expect(res.headers.get('allow')).to.equal('GET, HEAD, PUT, DELETE, OPTIONS');
    const raw = parseRawReply(await rawExchange(running.port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(raw.status).to.equal(204);
    expect(raw.headers.get('allow')).to.contain('GET');
  });

  it('answers HEAD from the GET route: same headers, no body', async () => {
    const raw = await rawExchange(running.port, 'HEAD /api/notes/1 HTTP/1.1\r\nHost: x\r\nx-token: letmein\r\nConnection: close\r\n\r\n');
    const reply = parseRawReply(raw);
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('content-length')).to.equal(String(JSON.stringify({ id: '1', text: 'first' }).length));
    expect(reply.body).to.equal('');
  });

  it('reads JSON bodies: 415 without the JSON type, 400 for bad JSON, 413 past the limit', async () => {
    const put = (body: string, type = 'application/json'): Promise<Response> =>
      fetch(`${running.url}/api/notes/2`, { method: 'PUT', headers: { ...auth, 'content-type': type }, body });
    let res = await put('{"text":"hello"}', 'text/plain');
    expect(res.status).to.equal(415);
    res = await put('{"text":');
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).to.match(/not valid JSON/);
    res = await put('{"text": hunter2}');
    const refusal = JSON.stringify(await res.json());
    expect(refusal, 'a JSON error never quotes the body').to.not.contain('hunter2');
    res = await put(JSON.stringify({ text: 'x'.repeat(100) }));
    expect(res.status).to.equal(413);
    res = await put('{"text":"hello"}');
    expect(res.status).to.equal(200);
    const list = await fetch(`${running.url}/api/notes`, { headers: auth });
    expect(await list.json()).to.deep.equal(['1', '2']);
  });

  it('turns a handler crash into a 500 that shows no internals, and the connection stays usable', async () => {
    const raw = await rawExchange(running.port,
      'GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /api/notes/1 HTTP/1.1\r\nHost: x\r\nx-token: letmein\r\nConnection: close\r\n\r\n');
    expect(raw).to.not.contain('hunter2');
    const first = parseRawReply(raw);
    expect(first.status).to.equal(500);
    expect(first.body).to.match(/request id/);
    expect(raw).to.match(/HTTP\/1\.1 200 [^\r]*\r\n[\s\S]*"text":"first"/);
  });

  it('takes the rest of the path and the query string', async () => {
    const res = await fetch(`${running.url}/echo/a/b%20c/d.txt?q=x%26y`);
    expect(await res.json()).to.deep.equal({ rest: 'a/b c/d.txt', q: 'x&y' });
  });

  it('reads cookies and sets several Set-Cookie headers', async () => {
    const raw = parseRawReply(await rawExchange(running.port, 'GET /cookies HTTP/1.1\r\nHost: x\r\nCookie: sid=abc; theme=dark\r\nConnection: close\r\n\r\n'));
    expect(JSON.parse(raw.body)).to.deep.equal({ sid: 'abc', theme: 'dark' });
    const all = await rawExchange(running.port, 'GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(all).to.match(/\r\nset-cookie: a=1; Path=\/\r\n/i);
    expect(all).to.match(/\r\nset-cookie: b=2; HttpOnly; SameSite=Lax\r\n/i);
  });
});
