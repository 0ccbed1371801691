import { expect } from 'chai';
import {
  detectHistoryFormat,
  JEPSEN_KEY,
  NEVER_COMPLETED,
  parseHistory,
  parseHistoryJson,
  parseJepsenHistory,
} from '../../lib/lincheck/index.js';
import { isPennError } from '../../lib/protocol/errors.js';

/** The message of the PennError that `parse` throws, failing the test if it throws none. */
function parseError(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    expect(isPennError(err, 'BAD_REQUEST'), String(err)).to.equal(true);
    return (err as Error).message;
  }
  expect.fail('expected a malformed history');
}

const lines = (...events: object[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

describe('lincheck: history parsers', () => {
  describe('JSON lines', () => {
    it('turns events into operations with their lines, times and results', () => {
      const ops = parseHistoryJson(
        lines(
          { type: 'invoke', process: 1, op: 'cput', key: 'k', expected: null, value: 'a', timeMs: 5 },
          { type: 'invoke', process: 2, op: 'get', key: 'k' },
          { type: 'ok', process: 1, applied: false, timeMs: 9 },
          { type: 'ok', process: 2, value: null },
          { type: 'invoke', process: 2, op: 'delete', key: 'k' },
          { type: 'info', process: 2 },
        ),
      );
      expect(ops).to.have.length(3);
      expect(ops[0]).to.include({ id: 0, process: 1, key: 'k', outcome: 'ok', applied: false, invokeAt: 0, completeAt: 2 });
      expect(ops[0]!.call).to.deep.equal({ f: 'cas', expected: null, value: 'a' });
      expect(ops[0]!.invokeSource).to.deep.equal({ line: 1, timeMs: 5 });
      expect(ops[0]!.completeSource).to.deep.equal({ line: 3, timeMs: 9 });
      expect(ops[1]).to.include({ outcome: 'ok', readValue: null });
      expect(ops[2]).to.include({ outcome: 'info', completeAt: NEVER_COMPLETED });
    });

    it('accepts a completion that repeats its invocation and ignores unknown fields', () => {
      const invoke = { type: 'invoke', process: 0, op: 'put', key: 'k', value: 'v', requestId: 'r1' };
      const ops = parseHistoryJson(lines(invoke, { ...invoke, type: 'ok' }));
      expect(ops[0]).to.include({ outcome: 'ok' });
    });

    const cases: [string, string, RegExp][] = [
      ['a line that is not JSON', '{"type":"invoke",\n', /^line 1: not JSON/],
      ['an ok get without a value', lines({ type: 'invoke', process: 0, op: 'get', key: 'k' }, { type: 'ok', process: 0 }), /^line 2: an ok get needs "value"/],
      ['a cput without expected', lines({ type: 'invoke', process: 0, op: 'cput', key: 'k', value: 'v' }), /^line 1: a cput needs "expected"/],
      ['an unknown op', lines({ type: 'invoke', process: 0, op: 'append', key: 'k' }), /^line 1: "op" must be one of/],
      ['a completion with no invocation', '\n' + lines({ type: 'ok', process: 4 }), /^line 2: ok for process 4, which has no operation outstanding/],
      ['a process invoking twice', lines({ type: 'invoke', process: 0, op: 'get', key: 'k' }, { type: 'invoke', process: 0, op: 'get', key: 'k' }), /^line 2: process 0 invoked again before its operation of line 1 completed/],
      ['a completion naming another key', lines({ type: 'invoke', process: 0, op: 'get', key: 'k' }, { type: 'ok', process: 0, key: 'j', value: null }), /^line 2: ok names key "j"/],
      ['a number as a value', lines({ type: 'invoke', process: 0, op: 'put', key: 'k', value: 7 }), /^line 1: "value" must be a string or null/],
    ];
    for (const [name, text, message] of cases) {
      it(`rejects ${name}, naming the line`, () => {
        expect(parseError(() => parseHistoryJson(text))).to.match(message);
      });
    }
  });

  describe('Jepsen log', () => {
    const log = [
      'INFO  jepsen.util - 0\t:invoke\t:cas\t[1 4]',
      'INFO  jepsen.util - 1   :invoke :read   nil',
      'INFO  jepsen.util - 1   :ok     :read   nil',
      'INFO  jepsen.util - 0\t:fail\t:cas\t[1 4]',
      'INFO  jepsen.util - 2\t:invoke\t:write\t3',
      'INFO  jepsen.util - 2\t:info\t:write\t:timed-out',
    ].join('\n');

    it('reads tab- and space-separated lines into operations on one register', () => {
      const ops = parseJepsenHistory(log);
      expect(ops.map((op) => [op.key, op.call, op.outcome])).to.deep.equal([
        [JEPSEN_KEY, { f: 'cas', expected: '1', value: '4' }, 'fail'],
        [JEPSEN_KEY, { f: 'read' }, 'ok'],
        [JEPSEN_KEY, { f: 'write', value: '3' }, 'info'],
      ]);
      expect(ops[1]!.readValue).to.equal(null);
    });

    it('rejects a line of another shape, naming it', () => {
      const text = `${log}\nINFO  jepsen.core - run complete`;
      expect(parseError(() => parseJepsenHistory(text))).to.match(/^line 7: not a Jepsen history line/);
    });

    it('rejects a completion of another operation than the one invoked', () => {
      const text = 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1';
      expect(parseError(() => parseJepsenHistory(text))).to.match(/^line 2: ok of write answers a read/);
    });
  });

  describe('format detection', () => {
    it('tells the formats apart by the first non-blank line', () => {
      expect(detectHistoryFormat('\n{"type":"invoke"}')).to.equal('penncloud-json');
      expect(detectHistoryFormat('INFO  jepsen.util - 1\t:invoke\t:read\tnil')).to.equal('jepsen');
      expect(detectHistoryFormat('')).to.equal('penncloud-json');
      expect(detectHistoryFormat('hello')).to.equal(undefined);
    });

    it('reads an empty file as an empty history', () => {
      expect(parseHistory('\n\n')).to.deep.equal({ format: 'penncloud-json', operations: [] });
    });

    it('rejects a file in neither format, naming the line', () => {
      expect(parseError(() => parseHistory('\n\nhello\n'))).to.match(/^line 3: neither a JSON history event nor a Jepsen log line/);
    });
  });
});
