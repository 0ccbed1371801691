import { expect } from 'chai';
import MailComposer from 'nodemailer/lib/mail-composer';
import { HEADER_SECTION_BYTES_MAX, MessageScan } from '../../lib/services/mime/message-scan.js';
import { parseMessage } from '../../lib/services/mime/mime-parser.js';
import { splitHeadAndBody } from '../../lib/services/mime/header-fields.js';
import { wireSize } from '../../lib/services/mime/wire-size.js';

function compose(options: Record<string, unknown>): Promise<Buffer> {
  return new Promise((resolve, reject) => new MailComposer(options).compile().build((err, b) => (err ? reject(err) : resolve(b))));
}

/** Scans `raw` fed in pieces of `step` bytes. */
function scan(raw: Buffer, step: number): { scan: MessageScan; head: Buffer } {
  const s = new MessageScan();
  for (let i = 0; i < raw.length; i += step) s.push(raw.subarray(i, i + step));
  return { scan: s, head: s.finish().head };
}

describe('services: scanning a message as it streams (what a listing needs)', () => {
  const samples: Array<[string, () => Promise<Buffer>]> = [
    ['plain text, LF ends', async () => Buffer.from('From: a@x\nSubject: hi\n\nline one\nline two')],
    ['plain text, CRLF ends, bare CR inside', async () => Buffer.from('From: a@x\r\nSubject: hi\r\n\r\nline\rone\r\n')],
    ['no header section', async () => Buffer.from('\r\nbody only\r\n')],
    ['text and html', () => compose({ from: 'a@x', to: 'b@y', subject: 's', text: 'hello', html: '<p>hello</p>' })],
    ['an attachment', () => compose({ from: 'a@x', to: 'b@y', subject: 's', text: 'see', attachments: [{ filename: 'r.bin', content: Buffer.alloc(5000, 7) }] })],
    ['an inline image with a Content-ID', () => compose({
      from: 'a@x', to: 'b@y', subject: 's', html: '<img src="cid:pic">',
      attachments: [{ filename: 'p.png', content: Buffer.alloc(300, 1), cid: 'pic', contentDisposition: 'inline' }],
    })],
    ['a whole message that is a PDF', async () => Buffer.from('From: a@x\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n')],
  ];
  for (const [name, make] of samples) {
    it(`${name}: the same header, size, wire size and attachment flag as the whole-message readers, at any split`, async () => {
      const raw = await make();
      const whole = parseMessage(raw);
      const expectedAttachments = whole.attachments.some((a) => !a.inline || a.contentId === null);
      for (const step of [1, 2, 3, 7, 64, raw.length]) {
        const { scan: s, head } = scan(raw, step);
        expect(s.size, `size at step ${step}`).to.equal(raw.length);
        expect(s.wireBytes, `wire size at step ${step}`).to.equal(wireSize(raw));
        expect(head.equals(splitHeadAndBody(raw).head), `head at step ${step}`).to.equal(true);
        expect(s.hasAttachments, `attachments at step ${step}`).to.equal(expectedAttachments);
      }
    });
  }

  it(`refuses a header section over ${HEADER_SECTION_BYTES_MAX} bytes with HEADERS_TOO_LARGE`, () => {
    const s = new MessageScan();
    const line = Buffer.from(`X-Long: ${'a'.repeat(990)}\r\n`);
    expect(() => {
      for (let i = 0; i < 300; i++) s.push(line);
    }).to.throw(/header section is longer than 262144 bytes/).with.property('code', 'HEADERS_TOO_LARGE');
  });
});
