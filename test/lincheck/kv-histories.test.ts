import { expect } from 'chai';
import { check, cput, del, fail, get, info, notApplied, ok, put } from './kv-events.js';

describe('lincheck: hand-written KV histories', () => {
  describe('sequential', () => {
    it('accepts put then get of the value', () => {
      expect(check([put(0, 'k', 'a'), ok(0), get(0, 'k'), ok(0, 'a')]).verdict).to.equal('linearizable');
    });

    it('accepts a get of a key never written as absent', () => {
      expect(check([get(0, 'k'), ok(0, null)]).verdict).to.equal('linearizable');
    });

    it('rejects a stale read: the older of two completed puts', () => {
      const events = [put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), ok(1), get(2, 'k'), ok(2, 'a')];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('rejects a lost write: an acknowledged put read back as absent', () => {
      const events = [put(0, 'k', 'a'), ok(0), get(1, 'k'), ok(1, null)];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('accepts delete making the key absent and rejects reading the deleted value', () => {
      const before = [put(0, 'k', 'a'), ok(0), del(0, 'k'), ok(0), get(1, 'k')];
      expect(check([...before, ok(1, null)]).verdict).to.equal('linearizable');
      expect(check([...before, ok(1, 'a')]).verdict).to.equal('not-linearizable');
    });
  });

  describe('cput', () => {
    it('accepts create-if-absent on an absent key, and a cput from the current value', () => {
      const events = [cput(0, 'k', null, 'a'), ok(0), cput(0, 'k', 'a', 'b'), ok(0), get(0, 'k'), ok(0, 'b')];
      expect(check(events).verdict).to.equal('linearizable');
    });

    it('rejects two concurrent create-if-absent cputs that both succeed', () => {
      const events = [cput(0, 'k', null, 'a'), cput(1, 'k', null, 'b'), ok(0), ok(1)];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('rejects a cput applied twice: its value reappears after a later put', () => {
      // The cput was retried across a failover and applied again after the put of "c".
      const events = [
        put(0, 'k', 'a'), ok(0),
        cput(1, 'k', 'a', 'b'),
        put(2, 'k', 'c'), ok(2),
        ok(1),
        get(3, 'k'), ok(3, 'b'),
      ];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('accepts a cput reported not applied while the value differed', () => {
      const events = [put(0, 'k', 'a'), ok(0), cput(1, 'k', 'x', 'y'), notApplied(1), get(1, 'k'), ok(1, 'a')];
      expect(check(events).verdict).to.equal('linearizable');
    });

    it('rejects a cput reported not applied although the value was the expected one', () => {
      const events = [put(0, 'k', 'a'), ok(0), cput(1, 'k', 'a', 'y'), notApplied(1)];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('rejects a cput that succeeded against a value the key never held', () => {
      const events = [put(0, 'k', 'a'), ok(0), cput(1, 'k', 'z', 'b'), ok(1)];
      expect(check(events).verdict).to.equal('not-linearizable');
    });
  });

  describe('info and fail', () => {
    const late = [put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), info(1), get(2, 'k'), ok(2, 'a')];

    it('accepts an info put that took effect late, after a read of the old value', () => {
      expect(check([...late, get(2, 'k'), ok(2, 'b')]).verdict).to.equal('linearizable');
    });

    it('accepts an info put that never took effect', () => {
      expect(check([...late, get(2, 'k'), ok(2, 'a')]).verdict).to.equal('linearizable');
    });

    it('rejects the value of an info put read before the put was invoked', () => {
      const events = [get(2, 'k'), ok(2, 'b'), put(1, 'k', 'b'), info(1)];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('rejects an info put taking effect twice (a later put in between)', () => {
      const events = [...late, get(2, 'k'), ok(2, 'b'), put(0, 'k', 'c'), ok(0), get(2, 'k'), ok(2, 'b')];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('treats an operation still outstanding at the end as info', () => {
      const events = [put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), get(2, 'k'), ok(2, 'b')];
      expect(check(events).verdict).to.equal('linearizable');
    });

    it('accepts an info cput whose effect a read saw', () => {
      const events = [put(0, 'k', 'a'), ok(0), cput(1, 'k', 'a', 'b'), info(1), get(2, 'k'), ok(2, 'b')];
      expect(check(events).verdict).to.equal('linearizable');
    });

    it('rejects the effect of an info cput whose comparison could not have succeeded', () => {
      const events = [put(0, 'k', 'a'), ok(0), cput(1, 'k', 'z', 'b'), info(1), get(2, 'k'), ok(2, 'b')];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('does not count a failed put: its value must never be read', () => {
      const events = [put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), fail(1), get(2, 'k')];
      expect(check([...events, ok(2, 'a')]).verdict).to.equal('linearizable');
      expect(check([...events, ok(2, 'b')]).verdict).to.equal('not-linearizable');
    });

    it('does not count a failed cput, even when the comparison would have succeeded', () => {
      const events = [cput(1, 'k', null, 'b'), fail(1), get(2, 'k')];
      expect(check([...events, ok(2, null)]).verdict).to.equal('linearizable');
      expect(check([...events, ok(2, 'b')]).verdict).to.equal('not-linearizable');
    });
  });

  describe('concurrency', () => {
    const racing = [put(0, 'k', 'a'), put(1, 'k', 'b'), ok(1), ok(0), get(2, 'k')];

    it('accepts either order of two concurrent puts', () => {
      const first = check([...racing, ok(2, 'a'), get(2, 'k'), ok(2, 'a')]);
      const second = check([...racing, ok(2, 'b'), get(2, 'k'), ok(2, 'b')]);
      expect([first.verdict, second.verdict]).to.deep.equal(['linearizable', 'linearizable']);
    });

    it('rejects a read flipping back after both concurrent puts completed', () => {
      expect(check([...racing, ok(2, 'a'), get(2, 'k'), ok(2, 'b')]).verdict).to.equal('not-linearizable');
    });

    it('accepts a get overlapping a put seeing the old or the new value', () => {
      const start = [put(0, 'k', 'a'), ok(0), put(1, 'k', 'b'), get(2, 'k')];
      expect(check([...start, ok(2, 'a'), ok(1)]).verdict).to.equal('linearizable');
      expect(check([...start, ok(2, 'b'), ok(1)]).verdict).to.equal('linearizable');
    });

    it('rejects two reads that see the new value and then the old one, one after the other', () => {
      const events = [
        put(0, 'k', 'a'), ok(0),
        put(1, 'k', 'b'),
        get(2, 'k'), ok(2, 'b'),
        get(3, 'k'), ok(3, 'a'),
        ok(1),
      ];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('gives a linearization that puts concurrent puts in the order the reads saw', () => {
      const result = check([...racing, ok(2, 'a')]);
      expect(result.verdict).to.equal('linearizable');
      if (result.verdict !== 'linearizable') return;
      const order = result.linearizations.get('k')!.map((op) => op.call.f === 'write' ? op.call.value : op.call.f);
      expect(order).to.deep.equal(['b', 'a', 'read']);
    });
  });

  describe('keys', () => {
    it('checks keys independently: a value of one key is not a value of another', () => {
      const events = [put(0, 'k1', 'a'), ok(0), get(1, 'k2'), ok(1, 'a')];
      expect(check(events).verdict).to.equal('not-linearizable');
    });

    it('proves a stale read without searching, naming the write and what overwrote it', () => {
      const events = [
        put(0, 'k1', 'x'), ok(0),
        put(0, 'k2', 'a'), ok(0),
        put(1, 'k2', 'b'), ok(1),
        get(2, 'k2'), ok(2, 'a'),
      ];
      const result = check(events);
      if (result.verdict !== 'not-linearizable' || result.violation.kind !== 'stale-observation') {
        return expect.fail(`expected a stale observation, got ${JSON.stringify(result).slice(0, 200)}`);
      }
      const { key, observer, value, overwrites } = result.violation;
      expect([key, observer.call.f, value]).to.deep.equal(['k2', 'read', 'a']);
      expect(overwrites.map((o) => [o.writer?.call, o.overwriter.call])).to.deep.equal([
        [{ f: 'write', value: 'a' }, { f: 'write', value: 'b' }],
      ]);
    });

    it('names the key of a violation, the prefix that has an order and the operation stuck', () => {
      // The reads see "b" then "a" while the put of "b" is still running: no stale read
      // on its own, but no order explains both.
      const events = [
        put(0, 'k1', 'x'), ok(0),
        put(0, 'k2', 'a'), ok(0),
        put(1, 'k2', 'b'),
        get(2, 'k2'), ok(2, 'b'),
        get(3, 'k2'), ok(3, 'a'),
        ok(1),
      ];
      const result = check(events);
      if (result.verdict !== 'not-linearizable' || result.violation.kind !== 'dead-end') {
        return expect.fail(`expected a dead end, got ${JSON.stringify(result).slice(0, 200)}`);
      }
      const { key, prefix, state, overdue, candidates } = result.violation;
      expect(key).to.equal('k2');
      expect(prefix.map((op) => op.call.f)).to.deep.equal(['write', 'write', 'read']);
      expect(state).to.equal('b');
      expect([overdue.call.f, overdue.readValue]).to.deep.equal(['read', 'a']);
      expect(candidates).to.deep.equal([overdue]);
    });
  });
});
