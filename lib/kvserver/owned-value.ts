/**
 * Values the store keeps must not hold on to more memory than their own bytes: a value decoded
 * from a socket read is a view into that read's buffer, and keeping a 100-byte view would keep
 * the whole 64 KiB read alive (and outside the memory account). Long values, though, arrive
 * assembled into a buffer of their own frame: copying those again costs a fresh allocation and
 * a pass over every byte, per replica, which is most of what a large write costs.
 */

/** Bytes of its underlying buffer a kept value may leave unused (the frame's header and keys). */
export const OWNED_VALUE_SLACK_BYTES_MAX = 4 * 1024;

/** `value` itself when it (nearly) fills its buffer, else a copy that does. */
export function ownedValue(value: Buffer): Buffer {
  if (value.buffer.byteLength - value.length <= OWNED_VALUE_SLACK_BYTES_MAX && value.length >= OWNED_VALUE_SLACK_BYTES_MAX) return value;
  return Buffer.from(value);
}
