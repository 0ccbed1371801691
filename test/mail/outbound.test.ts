import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import DNS from 'dns2';
import { SMTPServer } from 'smtp-server';
import { cleanupTempDirs, freePort, killAllRoles, startRole } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud, type Cloud } from '../api/cloud.js';

/** Bound on waiting for the worker to act (it polls every 100 ms here, retries after 200 ms). */
const DELIVERY_TIMEOUT_MS = 60_000;

/** The test's DNS zone: MX and A records pointing at sinks on other loopback addresses. */
const ZONE: Record<string, { mx?: Array<{ exchange: string; priority: number }>; a?: string }> = {
  'example.test': { mx: [{ exchange: 'mx2.example.test', priority: 20 }, { exchange: 'mx1.example.test', priority: 10 }] },
  'mx1.example.test': { a: '127.0.0.2' },
  'mx2.example.test': { a: '127.0.0.5' },
  'plain.test': { a: '127.0.0.2' },
  'flaky.test': { mx: [{ exchange: 'mx.flaky.test', priority: 10 }] },
  'mx.flaky.test': { a: '127.0.0.3' },
  'refusing.test': { mx: [{ exchange: 'mx.refusing.test', priority: 10 }] },
  'mx.refusing.test': { a: '127.0.0.4' },
};

interface Received { from: string; to: string[]; data: Buffer; remoteAddress: string }

/** The SMTP server's configured host: not 127.0.0.1, so that where deliveries leave from shows. */
const SMTP_HOST = '127.0.0.6';

/** A real SMTP server standing for another domain's mail host. */
function sink(host: string, port: number, behaviour: (attempt: number) => 'accept' | 451 | 550, received: Received[]): Promise<SMTPServer> {
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const verdict = behaviour(++attempts);
        if (verdict === 'accept') {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks), remoteAddress: session.remoteAddress,
          });
          callback();
        } else {
          callback(Object.assign(new Error(verdict === 451 ? 'Greylisted, try again later' : 'No such mailbox here'), { responseCode: verdict }));
        }
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('mail transport: outbound delivery by MX lookup (dns2, real SMTP sinks)', function () {
  this.timeout(180_000);
  let cloud: Cloud;
  let ann: ApiClient;
  const closers: Array<() => Promise<void>> = [];
  const received: Record<string, Received[]> = { good: [], flaky: [], refusing: [] };

  before(async () => {
    const dnsPort = await freeUdpPort();
    const dns = DNS.createServer({
      udp: true,
      handle: (request, send) => {
        const response = DNS.Packet.createResponseFromRequest(request);
        for (const q of request.questions) {
          const entry = ZONE[q.name.toLowerCase()];
          if (q.type === DNS.Packet.TYPE.MX) {
            for (const mx of entry?.mx ?? []) response.answers.push({ name: q.name, type: DNS.Packet.TYPE.MX, class: DNS.Packet.CLASS.IN, ttl: 60, exchange: mx.exchange, priority: mx.priority } as DNS.Packet.Resource);
          }
          if (q.type === DNS.Packet.TYPE.A && entry?.a !== undefined) {
            response.answers.push({ name: q.name, type: DNS.Packet.TYPE.A, class: DNS.Packet.CLASS.IN, ttl: 60, address: entry.a } as DNS.Packet.Resource);
          }
        }
        void send(response);
      },
    });
    await dns.listen({ udp: { port: dnsPort, address: '127.0.0.1' } } as never);
    closers.push(() => dns.close() as Promise<void>);

    const smtpPort = await freePort();
    // mx2 (127.0.0.5, preference 20) has no server at all: the better MX must be tried first.
    const servers = [
      await sink('127.0.0.2', smtpPort, () => 'accept', received.good!),
      await sink('127.0.0.3', smtpPort, (n) => (n === 1 ? 451 : 'accept'), received.flaky!),
      await sink('127.0.0.4', smtpPort, () => 550, received.refusing!),
    ];
    for (const s of servers) closers.push(() => new Promise((resolve) => s.close(() => resolve())));

    cloud = await startCloud({
      mail: {
        domain: 'localhost', dnsServer: { host: '127.0.0.1', port: dnsPort }, outboundPort: smtpPort, queuePollMs: 100,
        retry: { delayMs: 200, delayMaxMs: 1_000, attemptsMax: 5, expiryMs: 120_000 },
      },
    });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8'));
    conf.smtp.host = SMTP_HOST;
    writeFileSync(cloud.conf, JSON.stringify(conf, null, 2));
    await startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]);
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann');
  });
  after(async () => {
    closeKvClients();
    killAllRoles();
    for (const close of closers) await close();
    cleanupTempDirs();
  });

  async function sentMessage(subject: string): Promise<{ id: string; delivery: Array<{ recipient: string; state: string; detail: string; attempts: number }> }> {
    const list = (await ann.request('GET', '/api/mail/folders/sent?limit=100')).json().messages;
    return list.find((m: { subject: string }) => m.subject === subject);
  }

  it('delivers a webmail message to the best MX host, byte for byte', async () => {
    const sent = await ann.request('POST', '/api/mail/send', { json: { to: 'carol@example.test', subject: 'to the world', text: 'Hello from PennCloud.\n.dotted line\n' } });
    expect(sent.status).to.equal(201);
    const got = await eventually('the sink has the message', async () => received.good!.find((r) => r.to.includes('carol@example.test')));
    expect(got.from).to.equal('ann@localhost');
    const raw = (await ann.request('GET', `/api/mail/messages/${sent.json().message.id}/raw`)).body;
    expect(got.data.toString('latin1').replace(/\r\n$/, '')).to.equal(raw.toString('latin1').replace(/\r\n$/, ''));
    const state = await eventually('the Sent copy says delivered', async () => {
      const m = await sentMessage('to the world');
      return m.delivery[0]!.state === 'delivered' ? m.delivery[0] : undefined;
    });
    expect(state.detail).to.contain('mx1.example.test');
  });

  it('delivers from the SMTP server\'s configured host, not from whichever address the kernel picks', async () => {
    const sent = await ann.request('POST', '/api/mail/send', { json: { to: 'dave@example.test', subject: 'from where', text: 'Which address?' } });
    expect(sent.status).to.equal(201);
    const got = await eventually('the sink has the message', async () => received.good!.find((r) => r.to.includes('dave@example.test')));
    expect(got.remoteAddress).to.equal(SMTP_HOST);
  });

  it('uses the domain\'s A record when it has no MX', async () => {
    await ann.request('POST', '/api/mail/send', { json: { to: 'dan@plain.test', subject: 'no mx', text: 'x' } });
    await eventually('the sink has it', async () => received.good!.find((r) => r.to.includes('dan@plain.test')));
  });

  it('retries after a 451 and delivers on the next attempt', async () => {
    await ann.request('POST', '/api/mail/send', { json: { to: 'eve@flaky.test', subject: 'greylisted', text: 'x' } });
    const state = await eventually('delivered after a retry', async () => {
      const m = await sentMessage('greylisted');
      return m.delivery[0]!.state === 'delivered' ? m.delivery[0] : undefined;
    });
    expect(state.attempts).to.equal(2);
    expect(received.flaky!.map((r) => r.to[0])).to.deep.equal(['eve@flaky.test']);
  });

  it('bounces a 550 to the sender\'s Inbox, naming the recipient and the reason', async () => {
    await ann.request('POST', '/api/mail/send', { json: { to: 'ghost@refusing.test', subject: 'into the void', text: 'x' } });
    const bounce = await eventually('a bounce arrives', async () => {
      const inbox = (await ann.request('GET', '/api/mail/folders/inbox')).json().messages;
      return inbox.find((m: { subject: string }) => m.subject === 'Undelivered mail: into the void');
    });
    const read = (await ann.request('GET', `/api/mail/messages/${bounce.id}`)).json();
    expect(read.text).to.contain('ghost@refusing.test').and.contain('550').and.contain('No such mailbox here');
    expect(read.attachments[0].contentType).to.equal('message/rfc822');
    expect((await sentMessage('into the void')).delivery[0]!.state).to.equal('failed');
  });
});
