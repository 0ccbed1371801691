/**
 * Options of a store opened directly by a test (real files, no process): small limits, a test
 * logger, and a storage failure that throws into the test instead of stopping a process.
 */
import type { KvStoreOptions } from '../../lib/kvserver/kv-store.js';
import { createLogger } from '../../lib/protocol/log.js';
import { encodeLogRecord, type EncodedLogRecord, type KvLogRecord } from '../../lib/protocol/kv-log-record.js';

const KIB = 1024;

export function storeOptions(dir: string, overrides: Partial<KvStoreOptions> = {}): KvStoreOptions {
  return {
    nodeId: 0,
    dir,
    valueBytesMax: 64 * KIB,
    memoryBudgetBytes: 8 * 1024 * KIB,
    tabletSplitBytes: 4 * 1024 * KIB,
    checkpointLogBytes: 1024 * KIB,
    log: createLogger('test'),
    onFatal: (err) => { throw err; },
    ...overrides,
  };
}

/** A record with its log bytes, as REPLICATE brings it to a secondary. */
export function encoded(record: KvLogRecord): EncodedLogRecord {
  return { record, encoded: encodeLogRecord(record) };
}
