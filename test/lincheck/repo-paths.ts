/** Paths the lincheck tests need, found from the repository root (tests run from dist/test/). */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The repository root: this file is compiled to dist/test/lincheck/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Jepsen's cas-register histories with known verdicts, kept beside the clone. */
export const JEPSEN_VECTORS_DIR = resolve(REPO_ROOT, '../shared/vectors/jepsen-cas-register');

/** The built `penncloud` executable. */
export const PENNCLOUD_BIN = resolve(REPO_ROOT, 'dist/bin/penncloud.js');
