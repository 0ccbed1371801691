/**
 * A ZIP archive written as a stream (APPNOTE 6.3.x): entries are stored as they are (no
 * compression: most of what people download in bulk, photos and video, is compressed already),
 * each followed by a data descriptor with its CRC-32, so no entry is read twice and nothing is
 * held but the piece in flight. Sizes are known up front (the drive knows them), which is
 * what lets the archive's length be sent before its first byte. Entries and archives past the
 * 32-bit fields of plain ZIP use the ZIP64 records (4.5.3), so a 5 GiB video is fine.
 */
import { crc32 } from 'node:zlib';
import { PennError } from '../protocol/errors.js';

/** Entries of one archive (the central directory is kept in memory until the end: ~100 bytes each). */
export const ZIP_ENTRIES_MAX = 10_000;
/** UTF-8 bytes of an entry's path inside the archive. */
export const ZIP_NAME_BYTES_MAX = 4096;

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
/** General purpose flags: bit 3 (sizes and CRC follow the data), bit 11 (names are UTF-8). */
const FLAGS = 0x0808;
const VERSION_NEEDED = 45;
/** Made by: Unix (3), spec 4.5, so permissions in the external attributes are read. */
const VERSION_MADE_BY = (3 << 8) | 45;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

/** One entry: its path in the archive ("a/b.txt"; folders end in "/"), size and bytes. */
export interface ZipEntry {
  name: string;
  size: number;
  modifiedMs: number;
  /** The bytes (not called for folders). */
  open: () => AsyncIterable<Uint8Array>;
}

/** The archive's length in bytes for `entries` (what `zipStream` will write). */
export function zipLength(entries: readonly ZipEntry[]): number {
  checkEntries(entries);
  let offset = 0;
  let centralBytes = 0;
  for (const e of entries) {
    const name = Buffer.byteLength(e.name, 'utf8');
    const big = needsZip64(e.size, offset);
    offset += 30 + name + (big ? 20 : 0) + e.size + (big ? 24 : 16);
    centralBytes += 46 + name + (big ? 28 : 0);
  }
  return offset + centralBytes + (endNeedsZip64(entries, offset, centralBytes) ? 56 + 20 : 0) + 22;
}

/** The archive of `entries`, in order, as a stream of pieces. */
export async function* zipStream(entries: readonly ZipEntry[]): AsyncGenerator<Buffer> {
  checkEntries(entries);
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const { time, date } = dosTime(entry.modifiedMs);
    const big = needsZip64(entry.size, offset);
    const entryOffset = offset;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAGS, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // CRC and sizes are 0 here (bit 3); with ZIP64 the sizes say so and the extra field follows.
    local.writeUInt32LE(big ? MAX32 : 0, 18);
    local.writeUInt32LE(big ? MAX32 : 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(big ? 20 : 0, 28);
    const localExtra = big ? zip64Extra([0, 0]) : Buffer.alloc(0);
    yield Buffer.concat([local, name, localExtra]);
    offset += local.length + name.length + localExtra.length;

    let crc = 0;
    let written = 0;
    if (entry.size > 0) {
      for await (const piece of entry.open()) {
        crc = crc32(piece, crc);
        written += piece.length;
        if (written > entry.size) break;
        yield Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      }
    }
    if (written !== entry.size) {
      // The file changed or broke while it was read: the archive would be wrong, so it stops here.
      throw new PennError('UNAVAILABLE', `${entry.name} changed while the archive was being written`, { reason: 'CONTENTION' });
    }
    offset += entry.size;

    const descriptor = Buffer.alloc(big ? 24 : 16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(crc, 4);
    if (big) {
      descriptor.writeBigUInt64LE(BigInt(entry.size), 8);
      descriptor.writeBigUInt64LE(BigInt(entry.size), 16);
    } else {
      descriptor.writeUInt32LE(entry.size, 8);
      descriptor.writeUInt32LE(entry.size, 12);
    }
    yield descriptor;
    offset += descriptor.length;

    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(VERSION_MADE_BY, 4);
    header.writeUInt16LE(VERSION_NEEDED, 6);
    header.writeUInt16LE(FLAGS, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(time, 12);
    header.writeUInt16LE(date, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(big ? MAX32 : entry.size, 20);
    header.writeUInt32LE(big ? MAX32 : entry.size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(big ? 28 : 0, 30);
    header.writeUInt16LE(0, 32); // comment
    header.writeUInt16LE(0, 34); // disk
    header.writeUInt16LE(0, 36); // internal attributes
    const folder = entry.name.endsWith('/');
    header.writeUInt32LE(((folder ? 0o40755 : 0o100644) << 16) >>> 0, 38);
    header.writeUInt32LE(big ? MAX32 : entryOffset, 42);
    central.push(Buffer.concat([header, name, big ? zip64Extra([entry.size, entry.size, entryOffset]) : Buffer.alloc(0)]));
  }

  const centralBytes = central.reduce((n, b) => n + b.length, 0);
  for (const piece of central) yield piece;
  const centralOffset = offset;
  const zip64 = endNeedsZip64(entries, centralOffset, centralBytes);
  if (zip64) {
    const end64 = Buffer.alloc(56);
    end64.writeUInt32LE(ZIP64_END, 0);
    end64.writeBigUInt64LE(44n, 4);
    end64.writeUInt16LE(VERSION_MADE_BY, 12);
    end64.writeUInt16LE(VERSION_NEEDED, 14);
    end64.writeBigUInt64LE(BigInt(entries.length), 24);
    end64.writeBigUInt64LE(BigInt(entries.length), 32);
    end64.writeBigUInt64LE(BigInt(centralBytes), 40);
    end64.writeBigUInt64LE(BigInt(centralOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZIP64_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(centralOffset + centralBytes), 8);
    locator.writeUInt32LE(1, 16);
    yield Buffer.concat([end64, locator]);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL, 0);
  end.writeUInt16LE(Math.min(entries.length, MAX16), 8);
  end.writeUInt16LE(Math.min(entries.length, MAX16), 10);
  end.writeUInt32LE(Math.min(centralBytes, MAX32), 12);
  end.writeUInt32LE(zip64 ? MAX32 : centralOffset, 16);
  yield end;
}

/** True when an entry of `size` at `offset` needs the ZIP64 fields. */
function needsZip64(size: number, offset: number): boolean {
  return size >= MAX32 || offset >= MAX32;
}

/** True when the end of the archive needs the ZIP64 end record (big offsets, many entries, big files). */
function endNeedsZip64(entries: readonly ZipEntry[], centralOffset: number, centralBytes: number): boolean {
  return centralOffset >= MAX32 || centralBytes >= MAX32 || entries.length >= MAX16 || entries.some((e) => needsZip64(e.size, 0));
}

/** The ZIP64 extended information extra field holding `values` (8 bytes each). */
function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(ZIP64_EXTRA, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return extra;
}

/** MS-DOS time and date of `ms` (local fields in UTC; 1980 at the earliest). */
function dosTime(ms: number): { time: number; date: number } {
  const d = new Date(Math.max(ms, Date.UTC(1980, 0, 1)));
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function checkEntries(entries: readonly ZipEntry[]): void {
  if (entries.length > ZIP_ENTRIES_MAX) {
    throw new PennError('TOO_LARGE', `an archive holds at most ${ZIP_ENTRIES_MAX} files and folders; download fewer at once`, { reason: 'TOO_MANY_ENTRIES' });
  }
  for (const e of entries) {
    if (Buffer.byteLength(e.name, 'utf8') > ZIP_NAME_BYTES_MAX) {
      throw new PennError('TOO_LARGE', `a path in the archive is longer than ${ZIP_NAME_BYTES_MAX} bytes`, { reason: 'NAME_TOO_LONG' });
    }
  }
}
