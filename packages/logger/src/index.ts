import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** What every log line written while serving one request carries (set by the HTTP layer). */
export interface RequestLogFields {
  requestId: string;
  /** Filled in once the request's token is verified. */
  userId?: string;
  /** The calling app's name and version as it declared them (the gateway's client awareness). */
  client?: string;
  clientVersion?: string;
}

/**
 * The request being served, across awaits: the HTTP layer runs each request inside it and the
 * context factory adds the user, so a line logged anywhere below (a resolver, the data layer, an error
 * formatter) names its request without anyone passing it along.
 */
export const requestLogContext = new AsyncLocalStorage<RequestLogFields>();

/**
 * Paths never written to logs, whatever level: credentials and personal contact data. pino's paths
 * are exact, so each field is listed at the depths our log calls put it (top level, one object down,
 * inside GraphQL variables and their input object).
 */
const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'email',
  'phone',
  'address',
  'street',
  'postalCode',
];
export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `variables.${f}`, `variables.input.${f}`, `*.variables.input.${f}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-subgraph-secret"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-subgraph-secret"]',
  'databaseUrl',
];

/** Request and trace ids of the current async context, merged into every line (pino's mixin). */
function requestFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const request = requestLogContext.getStore();
  if (request) {
    fields.requestId = request.requestId;
    if (request.userId) fields.userId = request.userId;
    if (request.client) fields.client = request.client;
    if (request.clientVersion) fields.clientVersion = request.clientVersion;
  }
  const span = trace.getSpan(context.active());
  if (span) {
    const { traceId, spanId } = span.spanContext();
    fields.traceId = traceId;
    fields.spanId = spanId;
  }
  return fields;
}

export interface CreateLoggerOptions extends LoggerOptions {
  /** pretty: pino-pretty lines for a person at a terminal; json (default outside development): one object a line. */
  format?: 'json' | 'pretty';
  /** Where JSON lines go instead of stdout (tests). */
  destination?: DestinationStream;
}

/**
 * One logger per service. Lines name the service once (`service`; pino's `name` would repeat it) and
 * are JSON unless `format` (LOG_FORMAT) asks for pretty output, the default in development at a terminal.
 */
export function createLogger(service: string, level = 'info', options: CreateLoggerOptions = {}): Logger {
  const { format = defaultFormat(), destination, ...pinoOptions } = options;
  const settings: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: requestFields,
    ...pinoOptions,
  };
  if (format === 'pretty') return pino(settings, loadPretty()({ sync: true, ignore: 'pid,hostname' }));
  return pino(settings, destination ?? stdoutDestination());
}

/**
 * pino-pretty is for a person at a terminal, so it is a development dependency: loaded only when asked
 * for, and absent from the production images, where asking for it is a configuration mistake.
 */
function loadPretty(): typeof PinoPretty {
  try {
    return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  } catch {
    throw new Error(
      'LOG_FORMAT=pretty needs pino-pretty, a development dependency not installed here: use LOG_FORMAT=json',
    );
  }
}

let stdout: DestinationStream | undefined;

/** Lines wait at most this long for company before they are written... */
const BATCH_MS = 20;
/** ...or until this many characters wait. */
const BATCH_CHARS = 8 * 1024;

/**
 * Every logger of the process writes to stdout through one asynchronous writer (sonic-boom): one
 * writer, not one per logger, so lines never interleave, and a reader that stops reading costs at most
 * 16 MiB of waiting lines before lines are dropped rather than the service stalling (a synchronous
 * writer would block every request) or growing without bound.
 *
 * In front of it, lines are gathered for up to BATCH_MS or BATCH_CHARS and handed over in one write:
 * a write is a syscall, and under load the per-operation lines of a busy gateway made one each (the
 * native write was 3.6% of its CPU in a profile at 800 requests/s, on top of the line itself). The
 * timer is armed only while lines wait, so an idle process makes no writes and no wake-ups. Lines
 * still waiting when the process exits are written synchronously after the writer's own, in order.
 */
function stdoutDestination(): DestinationStream {
  if (stdout) return stdout;
  const writer = pino.destination({ dest: 1, sync: false, maxLength: 16 * 1024 * 1024 });
  let waiting: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const handOver = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const text = waiting.length === 1 ? waiting[0]! : waiting.join('');
    waiting = [];
    chars = 0;
    writer.write(text);
  };
  // Registered after the writer, whose own exit hook (pino's) flushes what it holds first.
  process.on('exit', () => {
    if (timer) clearTimeout(timer);
    if (waiting.length === 0) return;
    try {
      writeSync(1, waiting.join(''));
    } catch {
      // stdout gone (EPIPE) or full at exit (EAGAIN): nothing left to tell.
    }
    waiting = [];
  });
  stdout = {
    write(line: string) {
      waiting.push(line);
      chars += line.length;
      if (chars >= BATCH_CHARS) handOver();
      else timer ??= setTimeout(handOver, BATCH_MS);
    },
  };
  return stdout;
}

function defaultFormat(): 'json' | 'pretty' {
  if (process.env.LOG_FORMAT === 'json' || process.env.LOG_FORMAT === 'pretty') return process.env.LOG_FORMAT;
  // A terminal only: a development process whose output a launcher or a test reads stays JSON.
  const development = (process.env.NODE_ENV ?? 'development') === 'development';
  return development && process.stdout.isTTY ? 'pretty' : 'json';
}
