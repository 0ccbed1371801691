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

/**
 * Lines of one kind a `RefusalLog` writes per window; the rest are counted and reported in one
 * line when the next window opens. Refusals are what an outsider controls (a datagram or a
 * connection costs them nothing), so without a cap a flood of them fills the operator's disk;
 * ten lines show who is knocking, and the count shows how hard.
 */
export const REFUSAL_LINES_PER_WINDOW_MAX = 10;
/** Length of a `RefusalLog` window. */
export const REFUSAL_LOG_WINDOW_MS = 10_000;

/**
 * Warnings about refused strangers, at most REFUSAL_LINES_PER_WINDOW_MAX per window; the ones
 * held back are counted and summed up in a single line ("N more like this were not logged").
 */
export class RefusalLog {
  private windowStartMs = -Infinity;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (message: string, fields?: LogFields) => void,
    private readonly now: () => number = Date.now,
  ) {}

  warn(message: string, fields?: LogFields): void {
    const nowMs = this.now();
    if (nowMs - this.windowStartMs >= REFUSAL_LOG_WINDOW_MS) {
      if (this.suppressed > 0) {
        this.write('more refusals were not logged', { count: this.suppressed, windowMs: REFUSAL_LOG_WINDOW_MS });
      }
      this.windowStartMs = nowMs;
      this.written = 0;
      this.suppressed = 0;
    }
    if (this.written < REFUSAL_LINES_PER_WINDOW_MAX) {
      this.written += 1;
      this.write(message, fields);
    } else {
      this.suppressed += 1;
    }
  }
}
