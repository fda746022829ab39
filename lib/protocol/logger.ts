/**
 * Where portcullis tells an operator what it did: a pino-compatible logger (details first, message
 * second), so that `logger: pino()` works as it is, and `console` works too. Details never hold a
 * token, secret, code or verifier: only names, reasons, URLs and statuses.
 *
 * By default portcullis is silent but for warnings (a weakened check at start-up, a shared store
 * that stopped answering), which go to `console.warn`.
 */

/** Structured details of a log line: names, reasons, URLs, statuses; never a secret. */
export type LogDetails = Readonly<Record<string, unknown>>;

/** A pino-compatible logger: `info`, `warn` and `error` take the details first, then the message. */
export interface Logger {
  warn(details: LogDetails, message: string): void;
  info?(details: LogDetails, message: string): void;
  error?(details: LogDetails, message: string): void;
  debug?(details: LogDetails, message: string): void;
}

/** Warnings to `console.warn`, everything else dropped. */
export const defaultLogger: Logger = Object.freeze({
  warn(_details: LogDetails, message: string) {
    console.warn(`portcullis: ${message}`);
  },
});

/** Check a `logger` option at start-up. */
export function validateLogger(value: unknown, option = 'logger'): Logger {
  if (value === undefined) return defaultLogger;
  const logger = value as Partial<Record<keyof Logger, unknown>> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new TypeError(
      `"${option}" must be a pino-compatible logger with warn(details, message) (pino() or console will do)`,
    );
  }
  for (const level of ['info', 'error', 'debug'] as const) {
    if (logger[level] !== undefined && typeof logger[level] !== 'function') {
      throw new TypeError(`"${option}.${level}" must be a function`);
    }
  }
  return value as Logger;
}
