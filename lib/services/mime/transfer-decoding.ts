/** Content-Transfer-Encoding (RFC 2045 §6): base64 and quoted-printable to bytes. */

/** Decodes a part body by its transfer encoding; 7bit, 8bit, binary and unknown pass through. */
export function decodeTransfer(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      // Buffer's base64 decoder skips line breaks and stops at padding, as RFC 2045 §6.8 asks.
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

/** RFC 2045 §6.7: "=XX" escapes, soft line breaks ("=" at a line end), trailing space dropped. */
export function decodeQuotedPrintable(body: Buffer): Buffer {
  const text = body.toString('latin1');
  const lines = text.split(/\r?\n/);
  // Never longer than the input plus one CR per line (LF-only input gets CRLF).
  const out = Buffer.allocUnsafe(body.length + lines.length);
  let n = 0;
  lines.forEach((rawLine, index) => {
    const line = rawLine.replace(/[ \t]+$/, '');
    let soft = false;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x3d) {
        if (i === line.length - 1) {
          soft = true;
          break;
        }
        const hex = line.slice(i + 1, i + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          out[n++] = parseInt(hex, 16);
          i += 2;
          continue;
        }
      }
      out[n++] = c & 0xff;
    }
    if (!soft && index < lines.length - 1) {
      out[n++] = 0x0d;
      out[n++] = 0x0a;
    }
  });
  return out.subarray(0, n);
}
