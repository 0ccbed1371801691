/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with Debian's openssl in a temp
 * directory (removed by cleanupTempDirs), for HTTPS tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './roles.js';

/** openssl makes a P-256 key and certificate in well under a second; a loaded box gets more. */
const OPENSSL_TIMEOUT_MS = 30_000;

export interface TestCert {
  keyFile: string;
  certFile: string;
  /** The certificate's PEM, to trust it (`ca`). */
  cert: Buffer;
  key: Buffer;
}

/** Makes a key and a certificate valid for a day, for IP 127.0.0.1 and DNS localhost. */
export function makeSelfSignedCert(): TestCert {
  const dir = tempDir('penncloud-cert-');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: OPENSSL_TIMEOUT_MS });
  return { keyFile, certFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
