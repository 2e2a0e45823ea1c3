import { booleanFromEnv, z } from '@stockgraph/config';
import compression from 'compression';
import cors from 'cors';
import type { Request, RequestHandler } from 'express';
import { CLIENT_HEADERS } from './client-awareness.js';

/**
 * An allowed origin: `scheme://host[:port]` exactly as a browser sends it, or a pattern whose leftmost
 * host labels are `*.` (any subdomain, at any depth) and/or whose port is `*`. A bare `*` is refused:
 * it would let every site read answers meant for a signed-in user of this one.
 */
const ORIGIN_PART = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$/;

export interface OriginRule {
  exact?: string;
  pattern?: RegExp;
}

export function parseOriginRule(entry: string): OriginRule {
  const text = entry.trim().toLowerCase();
  const parts = ORIGIN_PART.exec(text);
  if (!parts) throw new Error(`${JSON.stringify(entry)} is not an origin (scheme://host[:port], no path)`);
  const [, scheme, anySubdomain, host, port] = parts;
  if (port !== undefined && port !== '*' && (Number(port) < 1 || Number(port) > 65535))
    throw new Error(`${JSON.stringify(entry)} has no valid port`);
  if (!anySubdomain && port !== '*') {
    // What a browser sends: the default port left out.
    const defaultPort = (scheme === 'https' && port === '443') || (scheme === 'http' && port === '80');
    return { exact: `${scheme}://${host}${port && !defaultPort ? `:${port}` : ''}` };
  }
  const escapedHost = host!.replace(/[.[\]]/g, (c) => `\\${c}`);
  const subdomains = anySubdomain ? '(?:[a-z0-9-]+\\.)+' : '';
  const portPart = port === '*' ? '(?::\\d{1,5})?' : port ? `:${port}` : '';
  return { pattern: new RegExp(`^${scheme}:\\/\\/${subdomains}${escapedHost}${portPart}$`) };
}

const originList = z
  .string()
  .max(8192)
  .transform((value, ctx) => {
    const rules: OriginRule[] = [];
    for (const entry of value.split(',').filter((e) => e.trim() !== '')) {
      try {
        rules.push(parseOriginRule(entry));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }
    return rules;
  });

const clientName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@/+ -]{0,63}$/, 'client names are 1-64 characters');

export const httpEdgeEnvShape = {
  /**
   * Origins whose web apps may call the gateway from a browser, comma-separated: exact origins
   * (`https://app.example.com`) and patterns (`https://*.example.com`, `http://localhost:*`). Unset:
   * none in production, localhost and 127.0.0.1 on any port otherwise. The gateway's own origin (the
   * explorer's) is always allowed.
   */
  CORS_ORIGINS: originList.optional(),
  /** Let browsers send cookies and read answers to credentialed requests (Access-Control-Allow-Credentials). */
  CORS_CREDENTIALS: booleanFromEnv.default(false),
  /** How long a browser may reuse a preflight's answer (Chromium caps it at 7,200). */
  CORS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  /** gzip or brotli, as the client's Accept-Encoding asks, for answers of at least COMPRESSION_THRESHOLD_BYTES. */
  COMPRESSION_ENABLED: booleanFromEnv.default(true),
  COMPRESSION_THRESHOLD_BYTES: z.coerce.number().int().min(0).max(10_000_000).default(1024),
  /**
   * Client names (the apollographql-client-name header) that get their own metric series; any other
   * name counts as `other`, so a client cannot add series. The explorer is always known.
   */
  KNOWN_CLIENTS: z
    .string()
    .max(4096)
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(z.array(clientName).max(50))
    .default([]),
};

interface HttpEdgeEnv {
  NODE_ENV: string;
  CORS_ORIGINS?: OriginRule[];
  CORS_CREDENTIALS: boolean;
  CORS_MAX_AGE_SECONDS: number;
  COMPRESSION_ENABLED: boolean;
  COMPRESSION_THRESHOLD_BYTES: number;
}

const DEVELOPMENT_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'].map(parseOriginRule);

/** Longer than any real origin (a DNS name is at most 253 characters); such a header is not looked at. */
const MAX_ORIGIN_LENGTH = 300;

/** Whether a browser page at `origin` may read the gateway's answers. */
export function originAllowed(rules: readonly OriginRule[], origin: string, req?: Request): boolean {
  if (origin.length > MAX_ORIGIN_LENGTH) return false;
  // The page the gateway serves itself (the explorer): its origin is the one the browser asked.
  if (req && origin === `${req.protocol}://${req.get('host')}`) return true;
  return rules.some((rule) => (rule.exact !== undefined ? rule.exact === origin : rule.pattern!.test(origin)));
}

/** What browsers may send and read cross-origin: what the gateway reads and what it answers with. */
const ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  // Apollo's CSRF prevention lets a request through when one of these is present.
  'apollo-require-preflight',
  'x-apollo-operation-name',
  ...CLIENT_HEADERS,
  'traceparent',
  'tracestate',
];
const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  // Where an answer came from (the response cache): a web app may show or log it.
  'cache-status',
  'age',
];

/**
 * CORS and compression in front of /graphql. CORS only tells a browser what it may read: a request
 * from another origin still reaches the gateway, so Apollo's CSRF prevention (a simple request needs
 * a preflight-forcing header or content type) stays the defence against cross-site writes.
 */
export function httpEdge(env: HttpEdgeEnv): RequestHandler[] {
  const rules = env.CORS_ORIGINS ?? (env.NODE_ENV === 'production' ? [] : DEVELOPMENT_ORIGINS);
  const allowed = cors({
    // Only called for an allowed origin, which is echoed back (never for a bare `*`).
    origin: true,
    credentials: env.CORS_CREDENTIALS,
    methods: ['GET', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: env.CORS_MAX_AGE_SECONDS,
  }) as RequestHandler;
  // An answer that names allowed origins differs by Origin, whether this one was allowed or not; with
  // compression on, by Accept-Encoding too (said here once, also for the clients it is skipped for).
  const varies = env.COMPRESSION_ENABLED ? 'Origin, Accept-Encoding' : 'Origin';
  const handlers: RequestHandler[] = [
    (req, res, next) => {
      res.vary(varies);
      const origin = req.headers.origin;
      if (origin === undefined) return next();
      if (originAllowed(rules, origin, req)) return allowed(req, res, next);
      // No Access-Control-Allow-Origin: the browser keeps the answer from the page. A preflight is
      // answered here rather than handed to GraphQL, which has nothing to say to OPTIONS.
      if (req.method === 'OPTIONS') return void res.status(204).end();
      next();
    },
  ];
  if (env.COMPRESSION_ENABLED) {
    const compress = compression({
      threshold: env.COMPRESSION_THRESHOLD_BYTES,
      // Server-sent events must reach the client as they happen, not when a compressor's block fills.
      filter: (req, res) =>
        !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream') &&
        !String(req.headers.accept ?? '').includes('text/event-stream') &&
        compression.filter(req, res),
    }) as RequestHandler;
    // A client that accepts no encoding gets the answer as it is: without wrapping the response's
    // write and end, negotiating and checking its type for nothing (~1.5% of the gateway's CPU per
    // operation in a profile, for server-side callers and tools that never ask for compression).
    handlers.push((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));
  }
  return handlers;
}
