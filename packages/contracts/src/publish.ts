import type { Tx } from '@stockgraph/db';
import { enqueue, traceFields, type OutboxTable } from '@stockgraph/events';
import type { EventType, PayloadIn, StreamContract } from './contract.js';

/** The payload key carrying the schema version the producer wrote (absent: version 1). */
export const VERSION_KEY = '$v';

/**
 * The stored payload of an event: checked against the contract, stamped with its version and with the
 * trace context it was written in (TRACE_KEYS), which the consumer's span continues.
 */
export function encode<S extends StreamContract, T extends EventType<S>>(
  stream: S,
  type: T,
  payload: PayloadIn<S, T>,
): Record<string, unknown> {
  const contract = stream.events[type];
  if (!contract) throw new Error(`stream ${stream.name} declares no event type ${type}`);
  return { ...contract.schema.parse(payload), [VERSION_KEY]: contract.version, ...traceFields() };
}

/**
 * Queues one event in the caller's transaction. The payload must satisfy the contract's schema, at
 * compile time and again here: a producer bug rolls the whole write back instead of reaching Redis.
 */
export async function publish<TDb extends Record<string, unknown>, S extends StreamContract, T extends EventType<S>>(
  tx: Tx<TDb>,
  outbox: OutboxTable,
  stream: S,
  type: T,
  payload: PayloadIn<S, T>,
): Promise<void> {
  await enqueue(tx, outbox, stream.name, [{ type, payload: encode(stream, type, payload) }]);
}

/** Queues several events of one type in one statement of the caller's transaction (a ledger's rows). */
export async function publishAll<TDb extends Record<string, unknown>, S extends StreamContract, T extends EventType<S>>(
  tx: Tx<TDb>,
  outbox: OutboxTable,
  stream: S,
  type: T,
  payloads: PayloadIn<S, T>[],
): Promise<void> {
  await enqueue(
    tx,
    outbox,
    stream.name,
    payloads.map((payload) => ({ type, payload: encode(stream, type, payload) })),
  );
}
