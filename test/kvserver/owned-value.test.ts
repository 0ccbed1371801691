import { expect } from 'chai';
import { OWNED_VALUE_SLACK_BYTES_MAX, ownedValue } from '../../lib/kvserver/owned-value.js';

describe('kvserver: values the store keeps', () => {
  it('copies a short value out of a larger read, so the read can be freed', () => {
    const read = Buffer.alloc(64 * 1024, 5);
    const value = read.subarray(100, 200);
    const kept = ownedValue(value);
    expect(kept).to.not.equal(value);
    expect(kept.equals(value)).to.equal(true);
    expect(kept.buffer.byteLength).to.be.lessThan(read.length);
  });

  it('copies a long value that is a small part of its buffer', () => {
    const frames = Buffer.alloc(4 * 1024 * 1024, 6);
    const value = frames.subarray(0, 1024 * 1024);
    expect(ownedValue(value)).to.not.equal(value);
  });

  it('keeps a long value that fills its own frame, without a copy', () => {
    const frame = Buffer.alloc(1024 * 1024 + 40, 7);
    const value = frame.subarray(40);
    expect(ownedValue(value)).to.equal(value);
    const exact = Buffer.alloc(OWNED_VALUE_SLACK_BYTES_MAX, 8);
    expect(ownedValue(exact)).to.equal(exact);
  });
});
