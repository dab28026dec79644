/** Temporal's log levels. */
export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Attributes of a log line. */
// biome-ignore lint/suspicious/noExplicitAny: Temporal's LogMetadata, so that loggers written for Temporal type-check
export type LogMetadata = Record<string | symbol, any>;

/** Temporal's Logger interface: what `log` and `Context.current().log` implement. */
export interface Logger {
  log(level: LogLevel, message: string, meta?: LogMetadata): unknown;
  trace(message: string, meta?: LogMetadata): unknown;
  debug(message: string, meta?: LogMetadata): unknown;
  info(message: string, meta?: LogMetadata): unknown;
  warn(message: string, meta?: LogMetadata): unknown;
  error(message: string, meta?: LogMetadata): unknown;
}

/** Which activity attempt wrote a log line. */
export interface ActivityLogContext {
  workflowId: string;
  runId: string;
  workflowType: string;
  activityId: string;
  activityType: string;
  attempt: number;
}

/** One `log` call of activity code, as the host receives it. */
export interface ActivityLogRecord {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The `meta` argument (JSON-safe copies of its values). */
  attributes?: Record<string, unknown>;
  activity: ActivityLogContext;
}

const LEVELS: Record<LogLevel, ActivityLogRecord['level']> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** A Logger that hands each line, with the activity's context, to `sink`. */
export function activityLogger(
  context: ActivityLogContext,
  sink: (record: ActivityLogRecord) => void,
): Logger {
  const write = (level: ActivityLogRecord['level'], message: unknown, meta?: LogMetadata) => {
    const attributes = meta === undefined || meta === null ? undefined : plainAttributes(meta);
    sink({
      level,
      message: String(message),
      ...(attributes && Object.keys(attributes).length ? { attributes } : {}),
      activity: context,
    });
  };
  return {
    log(level, message, meta) {
      const lower = LEVELS[String(level).toUpperCase() as LogLevel];
      if (!lower) {
        throw new TypeError(
          `log level must be one of ${Object.keys(LEVELS).join(', ')}; got ${JSON.stringify(level)}`,
        );
      }
      write(lower, message, meta);
    },
    trace: (message, meta) => write('trace', message, meta),
    debug: (message, meta) => write('debug', message, meta),
    info: (message, meta) => write('info', message, meta),
    warn: (message, meta) => write('warn', message, meta),
    error: (message, meta) => write('error', message, meta),
  };
}

/** The string-keyed attributes of `meta`, each made JSON-safe (errors become their name and message). */
function plainAttributes(meta: LogMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) out[key] = jsonSafe(value);
  return out;
}

function jsonSafe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch {
    return String(value);
  }
}
