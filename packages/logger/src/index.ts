import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths never written to logs, whatever level: credentials and personal contact data. */
const redact = [
  'password',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  'token',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'variables.password',
  'variables.input.password',
  'databaseUrl',
];

export function createLogger(service: string, level = 'info', options: LoggerOptions = {}): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: redact, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}
