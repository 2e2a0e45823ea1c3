import { UnprocessableEvent, type Envelope } from '@stockgraph/events';
import { z } from 'zod';
import type { EventType, Payload, StreamContract } from './contract.js';
import { VERSION_KEY } from './publish.js';

/** About the event beyond its payload. */
export interface EventMeta {
  id: string;
  occurredAt: string;
  /** The schema version the producer wrote; may be newer than the consumer's (additive changes). */
  version: number;
}

export type Handler<S extends StreamContract, T extends EventType<S>, C> = (
  payload: Payload<S, T>,
  meta: EventMeta,
  context: C,
) => Promise<void>;

/** The events of a stream a consumer acts on; the stream's other declared types are of no concern to it. */
export type Handlers<S extends StreamContract, C> = { [T in EventType<S>]?: Handler<S, T, C> };

function isEventType<S extends StreamContract>(stream: S, type: string): type is EventType<S> {
  return Object.hasOwn(stream.events, type);
}

function versionOf(payload: unknown): number {
  if (typeof payload !== 'object' || payload === null) return 1;
  const version = Object.getOwnPropertyDescriptor(payload, VERSION_KEY)?.value;
  return typeof version === 'number' ? version : 1;
}

/** Parses with the consumer's schema and calls the handler: generic per type, so the payload stays typed. */
async function dispatch<S extends StreamContract, T extends EventType<S>, C>(
  stream: S,
  type: T,
  handler: Handler<S, T, C>,
  envelope: Envelope,
  context: C,
): Promise<void> {
  const version = versionOf(envelope.payload);
  const schema: S['events'][T]['schema'] = stream.events[type]!.schema;
  const result = z.safeParse(schema, envelope.payload);
  if (!result.success) {
    throw new UnprocessableEvent(
      'invalid-payload',
      `${stream.name}/${type} v${version} does not match its schema: ${z.prettifyError(result.error)}`,
    );
  }
  await handler(result.data, { id: envelope.id, occurredAt: envelope.occurredAt, version }, context);
}

/** A stream's consumer (see `consume`). */
export interface StreamConsumer<C> {
  (envelope: Envelope, context: C): Promise<void>;
  /**
   * Whether an event of this type can change anything here: false only for a type the stream declares
   * and this consumer has no handler for. The consumer acknowledges those without a transaction or a
   * processed-events record (nothing to apply twice); an undeclared type still reaches the handler,
   * which refuses it, so it is parked.
   */
  applies(type: string): boolean;
}

/**
 * A stream's consumer: each event is checked against the contract before a handler sees it. An event
 * type the stream does not declare, or a payload its schema refuses, is unprocessable (the consumer
 * parks it); a declared type without a handler is skipped. Newer versions parse with the consumer's
 * schema, which ignores the fields it does not know yet.
 */
export function consume<S extends StreamContract, C>(stream: S, handlers: Handlers<S, C>): StreamConsumer<C> {
  const apply = async (envelope: Envelope, context: C) => {
    const { type } = envelope;
    if (!isEventType(stream, type))
      throw new UnprocessableEvent('unknown-type', `stream ${stream.name} declares no event type ${type}`);
    const handler = handlers[type];
    if (handler) await dispatch(stream, type, handler, envelope, context);
  };
  return Object.assign(apply, {
    applies: (type: string) => !isEventType(stream, type) || handlers[type] !== undefined,
  });
}
