/**
 * A small structured logger: one line per event on stderr,
 * `time LEVEL component message {fields}`. Each component makes its own with `createLogger`.
 * Never pass passwords, cookies or message bodies as fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function thresholdFromEnv(): number {
  const name = (process.env.PENNCLOUD_LOG ?? 'info').toLowerCase();
  if (name === 'silent') return 100;
  return LEVEL_RANK[name as LogLevel] ?? LEVEL_RANK.info;
}

let threshold = thresholdFromEnv();

/** Changes the minimum level for every logger of this process (tests use 'silent'). */
export function setLogLevel(level: LogLevel | 'silent'): void {
  threshold = level === 'silent' ? 100 : LEVEL_RANK[level];
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** A logger whose lines carry `component` and the given base fields. */
export function createLogger(component: string, base: LogFields = {}): Logger {
  const write = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVEL_RANK[level] < threshold) return;
    const all = { ...base, ...fields };
    const extra = Object.keys(all).length > 0 ? ' ' + safeJson(all) : '';
    process.stderr.write(
      `${new Date().toISOString()} ${level.toUpperCase()} ${component} ${message}${extra}\n`,
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(component, { ...base, ...fields }),
  };
}

function safeJson(value: LogFields): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
      if (typeof v === 'bigint') return v.toString();
      return v;
    });
  } catch {
    return '{"unserializable":true}';
  }
}
