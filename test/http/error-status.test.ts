import { expect } from 'chai';
import { errorReply, STATUS_BY_CODE, statusForError } from '../../lib/http/error-status.js';
import { DEFAULT_LIMITS, resolveLimits, sweepIntervalMs } from '../../lib/http/limits.js';
import { ERROR_CODES, PennError } from '../../lib/protocol/errors.js';
import type { LogFields, Logger } from '../../lib/protocol/log.js';

/** A logger that records its calls, to check an error is logged once, with its request id. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; message: string; fields?: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const record = (level: string) => (message: string, fields?: LogFields): void => {
    lines.push({ level, message, fields });
  };
  const logger: Logger = {
    debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'),
    child: () => logger,
  };
  return { logger, lines };
}

describe('http error table', () => {
  it('has a 4xx or 5xx status for every error code', () => {
    for (const code of ERROR_CODES) {
      expect(STATUS_BY_CODE[code], code).to.be.within(400, 599);
    }
    expect(STATUS_BY_CODE.NOT_FOUND).to.equal(404);
    expect(STATUS_BY_CODE.HEADERS_TOO_LARGE).to.equal(431);
    expect(STATUS_BY_CODE.UNAVAILABLE).to.equal(503);
  });

  it('shows a 4xx message and reason, and logs it at debug level only', () => {
    const { logger, lines } = recordingLogger();
    const reply = errorReply(new PennError('CONFLICT', 'Name taken', { reason: 'NAME_TAKEN' }), 'r1', logger);
    expect(reply.status).to.equal(409);
    expect(JSON.parse(reply.body)).to.deep.equal({
      error: { code: 'CONFLICT', message: 'Name taken', reason: 'NAME_TAKEN' },
    });
    expect(lines.map((l) => l.level)).to.deep.equal(['debug']);
  });

  it('hides a 5xx message behind generic text and the request id, logged once', () => {
    const { logger, lines } = recordingLogger();
    const reply = errorReply(new Error('disk /secret failed'), 'abc-7', logger);
    expect(reply.status).to.equal(500);
    expect(JSON.parse(reply.body)).to.deep.equal({
      error: { code: 'INTERNAL', message: 'Internal server error (request id abc-7)' },
    });
    expect(lines).to.have.length(1);
    expect(lines[0]!.level).to.equal('error');
    expect(lines[0]!.fields!.requestId).to.equal('abc-7');
    const unavailable = errorReply(new PennError('UNAVAILABLE', 'primary 3 down'), 'abc-8', logger);
    expect(unavailable.status).to.equal(503);
    expect(unavailable.body).not.to.include('primary');
    expect(lines[1]!.level).to.equal('warn');
  });

  it('gives 500 for anything that is not a PennError, thrown values included', () => {
    expect(statusForError('a string')).to.equal(500);
    expect(statusForError(new PennError('TOO_LARGE', 'x'))).to.equal(413);
    expect(errorReply(undefined, 'x', recordingLogger().logger).status).to.equal(500);
  });
});

describe('http limits', () => {
  it('applies overrides and keeps the defaults for the rest', () => {
    const limits = resolveLimits({ headTimeoutMs: 200 });
    expect(limits.headTimeoutMs).to.equal(200);
    expect(limits.headBytesMax).to.equal(DEFAULT_LIMITS.headBytesMax);
    expect(sweepIntervalMs(limits)).to.equal(50);
    expect(sweepIntervalMs(DEFAULT_LIMITS)).to.equal(1_000);
  });

  it('shrinks the request line with a smaller head limit given alone', () => {
    expect(resolveLimits({ headBytesMax: 1024 }).requestLineBytesMax).to.equal(1024);
  });

  it('refuses values that cannot work', () => {
    expect(() => resolveLimits({ bodyBytesMax: 0 })).to.throw(RangeError, /bodyBytesMax/);
    expect(() => resolveLimits({ idleTimeoutMs: 1.5 })).to.throw(RangeError, /idleTimeoutMs/);
    expect(() => resolveLimits({ requestLineBytesMax: 4096, headBytesMax: 1024 })).to.throw(RangeError, /requestLineBytesMax/);
  });
});
