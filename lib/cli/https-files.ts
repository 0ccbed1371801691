/** The key and certificate of `"https"` in the configuration, read for a web server. */
import { readFileSync } from 'node:fs';
import type { TlsFilesConfig } from '../../conf/config.js';
import { UsageError } from './command.js';

/** The PEM bytes of `files`, or undefined without HTTPS; an unreadable file names itself. */
export function readHttpsFiles(files: TlsFilesConfig | null): { key: Buffer; cert: Buffer } | undefined {
  if (files === null) return undefined;
  const read = (path: string, field: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(`https.${field} ${path}: ${(err as Error).message}`);
    }
  };
  return { key: read(files.keyFile, 'keyFile'), cert: read(files.certFile, 'certFile') };
}
