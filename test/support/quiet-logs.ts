/**
 * Loaded before every test file (.mocharc.json "require"): servers that tests run inside the
 * mocha process log nothing unless PENNCLOUD_TEST_LOG asks for a level (e.g. debug).
 */
import { setLogLevel, type LogLevel } from '../../lib/protocol/log.js';

setLogLevel((process.env.PENNCLOUD_TEST_LOG as LogLevel | 'silent' | undefined) ?? 'silent');
