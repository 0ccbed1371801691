import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { createLogger } from '../../lib/protocol/log.js';
import { ImapServer, IDLE_POLL_INTERVAL_MS } from '../../lib/mail/imap-server.js';
import { LINE_BYTES_MAX } from '../../lib/mail/imap-parser.js';
import { MemoryStore } from './imap-memory-store.js';
import { CLIENT_TIMEOUT_MS } from './mail-clients.js';

/** A raw connection that collects everything the server says. */
class Wire {
  text = '';
  closed = false;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
  }

  /** Waits until what was said matches `pattern` (or the connection closed, if `orClose`). */
  async until(pattern: RegExp, orClose = false): Promise<string> {
    const deadline = Date.now() + CLIENT_TIMEOUT_MS;
    while (!pattern.test(this.text) && !(orClose && this.closed)) {
      if (this.closed) throw new Error(`closed before ${pattern}: ${this.text}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.text;
  }
}

describe('imap: the server shell on a real socket', function () {
  this.timeout(60_000);
  let server: ImapServer;
  let store: MemoryStore;
  let port: number;
  const wires: Wire[] = [];

  async function start(options: { connectionsMax?: number; idleTimeoutMs?: number; literalBytesMax?: number } = {}): Promise<void> {
    store = new MemoryStore();
    server = new ImapServer({
      store, logger: createLogger('imap-test'), idleTimeoutMs: options.idleTimeoutMs ?? 60_000, failedLoginsMax: 3,
      connectionsMax: options.connectionsMax ?? 10, literalBytesMax: options.literalBytesMax ?? 1000, tls: null,
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  }

  async function open(): Promise<Wire> {
    const socket = connect(port, '127.0.0.1');
    const wire = new Wire(socket);
    wires.push(wire);
    await wire.until(/^\* (OK|BYE) .*\r\n/);
    return wire;
  }

  afterEach(async () => {
    for (const w of wires.splice(0)) w.socket.destroy();
    await server.close();
  });

  it('answers pipelined commands in order, and a command that arrives one byte at a time', async () => {
    await start();
    const wire = await open();
    wire.socket.write('a LOGIN alice "open sesame"\r\nb SELECT INBOX\r\nc NOOP\r\n');
    const text = await wire.until(/c OK NOOP completed\r\n/);
    expect(text.indexOf('a OK')).to.be.lessThan(text.indexOf('b OK')).and.lessThan(text.indexOf('c OK'));
    for (const byte of Buffer.from('d CAPABILITY\r\n')) wire.socket.write(Buffer.from([byte]));
    expect(await wire.until(/d OK CAPABILITY completed\r\n/)).to.contain('* CAPABILITY IMAP4rev1');
  });

  it('sends "+" for a synchronising literal and refuses one over the limit before it comes', async () => {
    await start({ literalBytesMax: 100 });
    const wire = await open();
    wire.socket.write('a LOGIN {5}\r\n');
    await wire.until(/\+ go ahead\r\n/);
    wire.socket.write('alice {11}\r\n');
    await wire.until(/\+ go ahead\r\n\+ go ahead\r\n/);
    wire.socket.write('open sesame\r\n');
    await wire.until(/a OK /);
    wire.socket.write('b APPEND INBOX {101}\r\n');
    expect(await wire.until(/b NO /)).to.contain('b NO [LIMIT] a literal of 101 octets is over the limit of 100\r\n');
    wire.socket.write('c NOOP\r\n');
    await wire.until(/c OK NOOP completed/);
  });

  it('refuses an over-long line with BAD and goes on; closes with BYE on a LITERAL+ over the limit', async () => {
    await start({ literalBytesMax: 100 });
    const wire = await open();
    wire.socket.write(`a NOOP ${'x'.repeat(LINE_BYTES_MAX)}\r\nb NOOP\r\n`);
    expect(await wire.until(/b OK NOOP completed/)).to.contain(`a BAD command line longer than ${LINE_BYTES_MAX} octets`);
    wire.socket.write(`c LOGIN alice "open sesame"\r\nd APPEND INBOX {200+}\r\n${'y'.repeat(200)}\r\n`);
    expect(await wire.until(/\* BYE [^\r]*\r\n/, true)).to.contain('* BYE a literal of 200 octets is over the limit of 100, closing\r\n');
    await wire.until(/$^/, true);
    expect(wire.closed).to.equal(true);
  });

  it('tells a connection past connectionsMax BYE', async () => {
    await start({ connectionsMax: 1 });
    await open();
    const second = await open();
    expect(second.text).to.equal('* BYE too many connections (at most 1), try again later\r\n');
  });

  it('logs out a silent connection after the idle timeout with BYE', async () => {
    await start({ idleTimeoutMs: 300 });
    const wire = await open();
    expect(await wire.until(/\* BYE autologout/, true)).to.contain('* BYE autologout: idle too long\r\n');
  });

  it('pushes new mail to an idling client within the poll interval, and ends IDLE at DONE', async () => {
    await start();
    const wire = await open();
    wire.socket.write('a LOGIN alice "open sesame"\r\nb SELECT INBOX\r\nc IDLE\r\n');
    await wire.until(/\+ idling\r\n/);
    const delivered = Date.now();
    store.deliver('inbox', 'Subject: hi\r\n\r\nnew\r\n');
    await wire.until(/\* 1 EXISTS\r\n/);
    // The poll runs every IDLE_POLL_INTERVAL_MS; allow a loaded machine that and as much again.
    expect(Date.now() - delivered).to.be.lessThan(2_000);
    expect(IDLE_POLL_INTERVAL_MS).to.be.at.most(1_000);
    wire.socket.write('DONE\r\n');
    await wire.until(/c OK IDLE terminated\r\n/);
  });
});
