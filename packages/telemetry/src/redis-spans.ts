import { tracingChannel } from 'node:diagnostics_channel';
import { context, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
import { recordFailure, tracer } from './spans.js';

/**
 * What node-redis 6 publishes for each command and batch on its diagnostics channels (`node-redis:command`,
 * `node-redis:batch`). Its own argument sanitising already replaces values with `?` (SET, XADD, HSET…),
 * so `args` holds command names and keys, never the data written.
 */
interface RedisTraceContext {
  command?: string;
  args?: string[];
  batchMode?: 'MULTI' | 'PIPELINE';
  batchSize?: number;
  database?: number;
  serverAddress?: string;
  serverPort?: number;
  error?: unknown;
  /** Ours: the span started for this call, carried from `start` to `asyncEnd`/`error`. */
  span?: Span;
}

/** Span name and attributes of a call, after the OpenTelemetry database conventions for Redis. */
export function redisSpanOf(call: RedisTraceContext): { name: string; attributes: Attributes } {
  const operation = call.batchMode ?? call.command ?? 'redis';
  const attributes: Attributes = {
    'db.system': 'redis',
    'db.system.name': 'redis',
    'db.operation.name': operation,
  };
  if (call.args && call.args.length > 0) attributes['db.query.text'] = call.args.join(' ');
  if (call.batchSize !== undefined) attributes['db.operation.batch.size'] = call.batchSize;
  if (call.database !== undefined) attributes['db.namespace'] = String(call.database);
  if (call.serverAddress) attributes['server.address'] = call.serverAddress;
  if (call.serverPort !== undefined) attributes['server.port'] = call.serverPort;
  return { name: operation, attributes };
}

let subscribed = false;

/**
 * Gives every Redis call made inside a traced piece of work (a request, an event being applied) a client
 * span, by listening to node-redis's own tracing channels: no wrapper around the clients. Calls outside
 * any trace (the relay polling, consumers waiting on XREADGROUP) start no trace of their own.
 */
export function traceRedisCalls(): void {
  if (subscribed) return;
  subscribed = true;
  const handlers = {
    start(message: unknown) {
      const call = message as RedisTraceContext;
      const parent = context.active();
      if (!trace.getSpan(parent)?.isRecording()) return;
      const { name, attributes } = redisSpanOf(call);
      call.span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    },
    end(message: unknown) {
      // A call that threw before returning its promise gets no asyncEnd: its error came first.
      const call = message as RedisTraceContext;
      if (call.error !== undefined) call.span?.end();
    },
    asyncStart() {},
    asyncEnd(message: unknown) {
      (message as RedisTraceContext).span?.end();
    },
    error(message: unknown) {
      const call = message as RedisTraceContext;
      if (call.span) recordFailure(call.span, call.error);
    },
  };
  tracingChannel('node-redis:command').subscribe(handlers);
  tracingChannel('node-redis:batch').subscribe(handlers);
}
