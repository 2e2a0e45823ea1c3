import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api';
import { inSpan, recordFailure, tracer } from '@stockgraph/telemetry';
import type { Envelope, EventBus } from './bus.js';

/**
 * Payload keys carrying the W3C trace context of the work that wrote the event (beside `$v`, the
 * schema version): the outbox row keeps it, so whoever applies the event, in whichever process and
 * however much later, continues the trace of the request that caused it. Consumers' schemas ignore it.
 */
export const TRACE_KEYS = { traceparent: '$traceparent', tracestate: '$tracestate' } as const;

/** The trace context to store with an event written now; empty when nothing is being traced. */
export function traceFields(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const fields: Record<string, string> = {};
  if (carrier.traceparent) fields[TRACE_KEYS.traceparent] = carrier.traceparent;
  if (carrier.tracestate) fields[TRACE_KEYS.tracestate] = carrier.tracestate;
  return fields;
}

/** The context an event was written in, or the root one for events written before traces (or untraced). */
export function eventContext(envelope: Envelope): Context {
  const payload = envelope.payload;
  if (typeof payload !== 'object' || payload === null) return ROOT_CONTEXT;
  const get = (key: string) => {
    const value = (payload as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  };
  const traceparent = get(TRACE_KEYS.traceparent);
  if (!traceparent) return ROOT_CONTEXT;
  const tracestate = get(TRACE_KEYS.tracestate);
  return propagation.extract(ROOT_CONTEXT, tracestate ? { traceparent, tracestate } : { traceparent });
}

const messaging = (stream: string, envelope: Envelope, operation: 'send' | 'process') => ({
  'messaging.system': 'redis_streams',
  'messaging.destination.name': stream,
  'messaging.operation.type': operation,
  'messaging.message.id': envelope.id,
  'stockgraph.event.type': envelope.type,
});

/**
 * The bus with a producer span per published event, a child of the trace the event was written in
 * (the relay publishes outside any request). Events from untraced work are published without one.
 */
export function traceBus(bus: EventBus): EventBus {
  return {
    ...bus,
    publish(stream, envelope) {
      const active = trace.getSpan(context.active())?.isRecording();
      const parent = active ? context.active() : eventContext(envelope);
      if (!trace.getSpan(parent)) return bus.publish(stream, envelope);
      const attributes = messaging(stream, envelope, 'send');
      return inSpan(
        `send ${stream}`,
        { kind: SpanKind.PRODUCER, attributes },
        () => bus.publish(stream, envelope),
        parent,
      );
    },
    // The relay sends a batch in one round trip: each event still gets its producer span, in its own
    // trace, and every one of them covers that round trip.
    async publishMany(entries) {
      const spans = entries.flatMap(({ stream, envelope }) => {
        const parent = eventContext(envelope);
        if (!trace.getSpan(parent)) return [];
        const attributes = messaging(stream, envelope, 'send');
        return [tracer.startSpan(`send ${stream}`, { kind: SpanKind.PRODUCER, attributes }, parent)];
      });
      try {
        await bus.publishMany(entries);
      } catch (error) {
        for (const span of spans) recordFailure(span, error);
        throw error;
      } finally {
        for (const span of spans) span.end();
      }
    },
  };
}

/**
 * Applies an event in a consumer span, a child of the span that wrote it: the saga's steps (inventory's
 * reservation, orders' confirmation) join the trace of the placeOrder that started it.
 */
export function inConsumerSpan<T>(
  stream: string,
  group: string,
  envelope: Envelope,
  work: () => Promise<T>,
): Promise<T> {
  const attributes = { ...messaging(stream, envelope, 'process'), 'messaging.consumer.group.name': group };
  return inSpan(`process ${stream}`, { kind: SpanKind.CONSUMER, attributes }, work, eventContext(envelope));
}
