import { expect } from 'chai';
import MailComposer from 'nodemailer/lib/mail-composer';
import { parseMessage, splitMultipart } from '../../lib/services/mime/mime-parser.js';
import { parseAddressList } from '../../lib/services/mime/address-list.js';
import { decodeQuotedPrintable } from '../../lib/services/mime/transfer-decoding.js';
import { decodeWords, parseStructured } from '../../lib/services/mime/header-fields.js';

function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new MailComposer(options).compile().build((err, message) => (err ? reject(err) : resolve(message)));
  });
}

describe('services: reading MIME messages', () => {
  it('reads what nodemailer writes: headers, text, html and a binary attachment', async () => {
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10, 0x80]);
    const raw = await compose({
      from: 'Ann Lee <ann@localhost>',
      to: ['"Lee, Bo" <bo@localhost>', 'carl@Example.ORG'],
      cc: 'dee@localhost',
      subject: 'Grüße — quarterly report',
      text: 'Hello,\n.a line starting with a dot\nbye\n',
      html: '<p>Hello</p>',
      inReplyTo: '<orig-1@localhost>',
      references: ['<orig-0@localhost>', '<orig-1@localhost>'],
      attachments: [{ filename: 'résumé.pdf', content: pdf }],
    });
    const parsed = parseMessage(raw);
    expect(parsed.subject).to.equal('Grüße — quarterly report');
    expect(parsed.from).to.deep.equal([{ name: 'Ann Lee', address: 'ann@localhost' }]);
    expect(parsed.to).to.deep.equal([{ name: 'Lee, Bo', address: 'bo@localhost' }, { name: '', address: 'carl@example.org' }]);
    expect(parsed.cc.map((a) => a.address)).to.deep.equal(['dee@localhost']);
    expect(parsed.text!.replace(/\r\n/g, '\n')).to.equal('Hello,\n.a line starting with a dot\nbye\n');
    expect(parsed.html).to.equal('<p>Hello</p>');
    expect(parsed.inReplyTo).to.equal('orig-1@localhost');
    expect(parsed.references).to.deep.equal(['orig-0@localhost', 'orig-1@localhost']);
    expect(parsed.messageId).to.match(/@localhost$/);
    expect(parsed.dateMs).to.be.a('number');
    expect(parsed.attachments).to.have.length(1);
    expect(parsed.attachments[0]!.filename).to.equal('résumé.pdf');
    expect(parsed.attachments[0]!.contentType).to.equal('application/pdf');
    expect(parsed.attachments[0]!.content.equals(pdf)).to.equal(true);
  });

  it('reads a plain LF-only message with no MIME headers', () => {
    const parsed = parseMessage(Buffer.from('From: x@y\nSubject: plain\n\nbody line 1\nline 2\n'));
    expect(parsed.subject).to.equal('plain');
    expect(parsed.text).to.equal('body line 1\nline 2\n');
    expect(parsed.attachments).to.deep.equal([]);
  });

  it('decodes an RFC 2231 file name once: "Ã©.bin" stays "Ã©.bin" (twice made it "é.bin")', async () => {
    const message = (name: string): Buffer => Buffer.from([
      'From: x@y', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b',
      'Content-Type: text/plain', '', 'hi', '--b',
      `Content-Type: application/octet-stream`, `Content-Disposition: attachment; ${name}`, 'Content-Transfer-Encoding: base64', '', 'AAEC', '--b--', '',
    ].join('\r\n'), 'latin1');
    expect(parseMessage(message("filename*=utf-8''%C3%83%C2%A9.bin")).attachments.map((a) => a.filename)).to.deep.equal(['Ã©.bin']);
    expect(parseMessage(message("filename*=utf-8''Gr%C3%B6%C3%9Fe-%E3%83%87%E3%83%BC%E3%82%BF.bin")).attachments.map((a) => a.filename)).to.deep.equal(['Größe-データ.bin']);
    // A plain name in RFC 2047 words, as many mail programs write it, is still decoded.
    expect(parseMessage(message('filename="=?utf-8?B?w4PCqS5iaW4=?="')).attachments.map((a) => a.filename)).to.deep.equal(['Ã©.bin']);
    // What nodemailer writes for a non-ASCII name reads back as it was.
    const built = await compose({ from: 'x@y', to: 'z@w', text: 'hi', attachments: [{ filename: 'Ã©-Größe.bin', content: Buffer.from([1, 2]) }] });
    expect(parseMessage(built).attachments.map((a) => a.filename)).to.deep.equal(['Ã©-Größe.bin']);
  });

  it('decodes quoted-printable with soft breaks and latin-1 text', () => {
    const raw = Buffer.from([
      'Subject: =?ISO-8859-1?Q?caf=E9?= =?ISO-8859-1?Q?_cr=E8me?=',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 au lait, a very long line that was wrapped=',
      ' here =3D equals',
      '',
    ].join('\r\n'), 'latin1');
    const parsed = parseMessage(raw);
    expect(parsed.subject).to.equal('café crème');
    expect(parsed.text).to.equal('Café au lait, a very long line that was wrapped here = equals\r\n');
  });

  it('keeps an unterminated multipart part and ignores the preamble', () => {
    const body = Buffer.from('preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\none\r\n--b1\r\nContent-Type: text/plain\r\n\r\ntwo');
    expect(splitMultipart(body, 'b1').map((p) => p.toString())).to.deep.equal(['Content-Type: text/plain\r\n\r\none', 'Content-Type: text/plain\r\n\r\ntwo']);
  });

  it('parses parameters with quotes and RFC 2231 continuations', () => {
    const v = parseStructured(`attachment; filename*0*=utf-8''%E2%82%AC%20rates; filename*1=".txt"; size=12`);
    expect(v.value).to.equal('attachment');
    expect(v.params.get('filename')).to.equal('€ rates.txt');
    expect(parseStructured('text/plain; charset="utf-8"; format=flowed').params.get('charset')).to.equal('utf-8');
  });

  it('parses address lists with groups, comments and quoted commas', () => {
    expect(parseAddressList('team: a@x, "B, Jr." <b@Y> (boss);, c@z (cc)')).to.deep.equal([
      { name: '', address: 'a@x' }, { name: 'B, Jr.', address: 'b@y' }, { name: '', address: 'c@z' },
    ]);
    expect(parseAddressList('not an address, <ok@x>')).to.deep.equal([{ name: '', address: 'ok@x' }]);
  });

  it('decodes encoded words and quoted-printable edge cases', () => {
    expect(decodeWords('=?UTF-8?B?w6l0w6k=?= ok')).to.equal('été ok');
    expect(decodeQuotedPrintable(Buffer.from('a=\r\nb=41=4\r\n')).toString()).to.equal('abA=4\r\n');
  });
});
