/**
 * The size of a message as it travels in a line-oriented protocol (RFC 1939 §11, RFC 5321
 * §2.3.8): every line ends in CRLF on the wire, whatever the stored bytes used.
 */

/** Octets of `message` with each CRLF, bare CR and bare LF counted as CRLF, before dot-stuffing. */
export function wireSize(message: Buffer): number {
  let size = 0;
  for (let i = 0; i < message.length; i++) {
    const b = message[i]!;
    if (b === 0x0d) {
      size += 2;
      if (message[i + 1] === 0x0a) i++;
    } else if (b === 0x0a) {
      size += 2;
    } else {
      size++;
    }
  }
  // A message that does not end in a line end gets one on the wire.
  const last = message[message.length - 1];
  if (message.length > 0 && last !== 0x0a && last !== 0x0d) size += 2;
  return size;
}
