/**
 * What a folder listing needs of a message, learnt while its bytes stream past on their way to
 * the store: the header section (kept, at most HEADER_SECTION_BYTES_MAX), the size, the size on
 * the wire (wire-size.ts, counted a byte at a time), and whether it has attachments (the part
 * headers of multipart bodies, read line by line with the rule of mime-parser.ts). Nothing but
 * the header section and one part header at a time is held, whatever the message's size.
 */
import { PennError } from '../../protocol/errors.js';
import { parseHeaderFields, parseStructured, displayParam, type HeaderField } from './header-fields.js';
import { MIME_DEPTH_MAX, MIME_PARTS_MAX } from './mime-parser.js';

/**
 * Largest header section of a message (past it, HEADERS_TOO_LARGE, which SMTP answers with
 * 552). RFC 5322 sets no limit; real headers run to a few KiB, long trace chains to tens.
 */
export const HEADER_SECTION_BYTES_MAX = 256 * 1024;
/** Bytes of one part's header section kept to judge it; past it the part is judged on what was kept. */
export const PART_HEAD_BYTES_MAX = 64 * 1024;
/** Bytes of a body line kept to compare with a boundary (RFC 2046 §5.1.1: boundaries are at most 70 characters). */
const BOUNDARY_LINE_BYTES_MAX = 200;

type ScanState = 'head' | 'body' | 'part-head';


export class MessageScan {
  size = 0;
  wireBytes = 0;
  hasAttachments = false;
  private state: ScanState = 'head';
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** Head bytes before the current header line. */
  private headLineStart = 0;
  private headSection: Buffer | null = null;
  /** Bytes of the current line other than CR and LF. */
  private lineLength = 0;
  private line: number[] = [];
  private lineTooLong = false;
  private lastByte = -1;
  /** Boundaries of the open multiparts, outermost first. */
  private readonly boundaries: string[] = [];
  private parts = 0;
  private partHead: number[] = [];

  /** Feeds the next bytes of the message; throws HEADERS_TOO_LARGE past the cap. */
  push(bytes: Uint8Array): void {
    this.size += bytes.length;
    let headFrom = this.state === 'head' ? 0 : -1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      this.countWire(b);
      if (this.state !== 'head') {
        this.stepBody(b);
        continue;
      }
      if (b === 0x0a) {
        if (this.lineLength === 0) {
          // An empty line ends the header section; the section is what came before it.
          this.keepHead(bytes.subarray(headFrom, i + 1));
          headFrom = -1;
          this.endHead(this.headLineStart);
          continue;
        }
        this.lineLength = 0;
        this.headLineStart = this.headBytes + (i + 1 - headFrom);
      } else if (b !== 0x0d) {
        this.lineLength++;
      }
    }
    if (headFrom !== -1) this.keepHead(bytes.subarray(headFrom));
  }

  /** Call at the end of the message: the header section and its fields. */
  finish(): { head: Buffer; headers: HeaderField[] } {
    if (this.size > 0 && this.lastByte !== 0x0a && this.lastByte !== 0x0d) this.wireBytes += 2;
    if (this.state === 'head') this.endHead(this.headBytes);
    const head = this.headSection ?? Buffer.alloc(0);
    return { head, headers: parseHeaderFields(head) };
  }

  /** Wire size: a CRLF, a bare CR and a bare LF are each two octets. */
  private countWire(b: number): void {
    if (b === 0x0d || (b === 0x0a && this.lastByte !== 0x0d)) this.wireBytes += 2;
    else if (b !== 0x0a) this.wireBytes++;
    this.lastByte = b;
  }

  private keepHead(bytes: Uint8Array): void {
    if (this.headBytes + bytes.length > HEADER_SECTION_BYTES_MAX) {
      throw new PennError('HEADERS_TOO_LARGE', `the header section is longer than ${HEADER_SECTION_BYTES_MAX} bytes`);
    }
    this.head.push(Buffer.from(bytes));
    this.headBytes += bytes.length;
  }

  private endHead(sectionBytes: number): void {
    this.headSection = Buffer.concat(this.head).subarray(0, sectionBytes);
    this.head.length = 0;
    this.state = 'body';
    this.lineLength = 0;
    this.judgePart(parseHeaderFields(this.headSection), 0);
  }

  private stepBody(b: number): void {
    if (b === 0x0a) {
      this.endLine();
      return;
    }
    if (b === 0x0d) return;
    if (this.state === 'part-head' && this.partHead.length < PART_HEAD_BYTES_MAX) this.partHead.push(b);
    if (this.line.length < BOUNDARY_LINE_BYTES_MAX) this.line.push(b);
    else this.lineTooLong = true;
  }

  private endLine(): void {
    const line = this.lineTooLong ? null : Buffer.from(this.line).toString('latin1').replace(/[ \t]+$/, '');
    this.line = [];
    this.lineTooLong = false;
    if (this.state === 'part-head') {
      if (line === '') {
        this.state = 'body';
        const head = Buffer.from(this.partHead);
        this.partHead = [];
        this.judgePart(parseHeaderFields(head), this.boundaries.length);
        return;
      }
      if (this.partHead.length < PART_HEAD_BYTES_MAX) this.partHead.push(0x0d, 0x0a);
      return;
    }
    if (line === null || !line.startsWith('--')) return;
    for (let k = this.boundaries.length - 1; k >= 0; k--) {
      const boundary = this.boundaries[k]!;
      if (line === `--${boundary}--`) {
        this.boundaries.length = k;
        return;
      }
      if (line === `--${boundary}`) {
        this.boundaries.length = k + 1;
        if (++this.parts > MIME_PARTS_MAX) return;
        this.state = 'part-head';
        return;
      }
    }
  }

  /** A part's headers are known: a multipart opens its boundary; a leaf may be an attachment (mime-parser.ts's rule). */
  private judgePart(headers: HeaderField[], depth: number): void {
    const field = (name: string): string | undefined => headers.find((h) => h.name === name)?.value;
    const type = parseStructured(field('content-type') ?? 'text/plain; charset=us-ascii');
    const mediaType = type.value || 'text/plain';
    if (mediaType.startsWith('multipart/') && depth < MIME_DEPTH_MAX) {
      const boundary = type.params.get('boundary');
      if (boundary !== undefined && boundary !== '') {
        this.boundaries.push(boundary);
        return;
      }
    }
    const disposition = parseStructured(field('content-disposition'));
    const filename = displayParam(disposition, 'filename') ?? displayParam(type, 'name') ?? '';
    const isAttachment = disposition.value === 'attachment' || filename !== '';
    if (!(mediaType === 'message/rfc822' || isAttachment || !mediaType.startsWith('text/'))) return;
    const contentId = field('content-id');
    if (disposition.value !== 'inline' || contentId === undefined || !/<[^<>]+>/.test(contentId)) this.hasAttachments = true;
  }
}
