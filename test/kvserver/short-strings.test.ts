import { expect } from 'chai';
import { readClientId, readUtf8, utf8Length, writeClientId, writeUtf8 } from '../../lib/protocol/short-strings.js';

/** Short, long, ASCII and not: each path of the helpers, against Buffer's own encoding. */
const STRINGS = [
  '', 'a', 'k-1234', 'exactly-twelve', 'row:with:colons/and/slashes', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(5000),
  'é', 'naïve', 'ключ', '☃ snow', '😀', 'a😀b', '\u007f', '\u0080', 'mixed-ascii-then-ü'.repeat(4),
];

describe('protocol: short keys and client ids in bytes', () => {
  it('measures, writes and reads back every string exactly as Buffer encodes it', () => {
    for (const s of STRINGS) {
      const expected = Buffer.from(s, 'utf8');
      expect(utf8Length(s), JSON.stringify(s)).to.equal(expected.length);
      const buf = Buffer.alloc(expected.length + 6, 0xee);
      const end = writeUtf8(buf, 3, s, utf8Length(s));
      expect(end, JSON.stringify(s)).to.equal(3 + expected.length);
      expect(buf.subarray(3, end).equals(expected), JSON.stringify(s)).to.equal(true);
      expect([buf[2], buf[end]], 'bytes around it untouched').to.deep.equal([0xee, 0xee]);
      expect(readUtf8(buf, 3, end), JSON.stringify(s)).to.equal(s);
    }
  });

  it('reads bytes that are not UTF-8 as null, short or long', () => {
    for (const bad of [[0xff], [0x61, 0xc3], [0x80, 0x61], [0xed, 0xa0, 0x80], [...Buffer.from('a'.repeat(70)), 0xfe]]) {
      const buf = Buffer.from(bad);
      expect(readUtf8(buf, 0, buf.length), JSON.stringify(bad)).to.equal(null);
    }
  });

  it('round-trips client ids through their 8 bytes, and pads a short one as before', () => {
    const buf = Buffer.alloc(10);
    for (const id of ['0000000000000000', 'ffffffffffffffff', '0123456789abcdef', 'A0B1C2D3E4F5A6B7']) {
      writeClientId(buf, 1, id);
      expect(buf.subarray(1, 9).equals(Buffer.from(id, 'hex')), id).to.equal(true);
      expect(readClientId(buf, 1), id).to.equal(id.toLowerCase());
    }
    writeClientId(buf, 1, 'abc');
    expect(buf.subarray(1, 9).equals(Buffer.from('abc'.padEnd(16, '0'), 'hex'))).to.equal(true);
  });
});
