/** Test support: curl as a child process, the way a script would call the API. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './roles.js';

/** Longest a curl run may take before the test gives up on it. */
export const CURL_TIMEOUT_S = 30;

export interface CurlReply {
  status: number;
  /** The raw header block, as curl dumps it. */
  headers: string;
  body: Buffer;
}

/** Runs curl with `args` (with a cookie jar file, when `jar` names one); the reply. */
export function curl(args: string[], jar?: string): Promise<CurlReply> {
  const dir = tempDir('penncloud-curl-');
  const headerFile = join(dir, 'headers');
  const bodyFile = join(dir, 'body');
  const jarArgs = jar === undefined ? [] : ['--cookie', jar, '--cookie-jar', jar];
  return new Promise((resolve, reject) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', String(CURL_TIMEOUT_S), '--dump-header', headerFile, '--output', bodyFile,
      '--write-out', '%{http_code}', ...jarArgs, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`curl failed: ${err.message}\n${stderr}`));
      resolve({ status: Number(stdout.trim()), headers: readFileSync(headerFile, 'utf8'), body: readFileSync(bodyFile) });
    });
  });
}

/** The JSON body of a reply. */
export function jsonOf(reply: CurlReply): any {
  return JSON.parse(reply.body.toString('utf8'));
}
