import type { z } from 'zod';

/**
 * One event type: its payload schema and the version of that schema. A version may only add optional
 * fields (consumers on the previous version ignore them, which is what makes a rolling deploy safe);
 * renaming or removing a field is a new event type.
 */
export interface EventContract<TSchema extends z.ZodObject = z.ZodObject> {
  version: number;
  schema: TSchema;
}

/** A stream and every event type published on it: the only place either is named. */
export interface StreamContract<TName extends string = string, TEvents extends EventCatalogue = EventCatalogue> {
  name: TName;
  events: TEvents;
}

export type EventCatalogue = Record<string, EventContract>;

export function event<TSchema extends z.ZodObject>(version: number, schema: TSchema): EventContract<TSchema> {
  return { version, schema };
}

export function stream<TName extends string, TEvents extends EventCatalogue>(
  name: TName,
  events: TEvents,
): StreamContract<TName, TEvents> {
  return { name, events };
}

export type EventType<S extends StreamContract> = keyof S['events'] & string;

/** What a producer must write for event `T` on stream `S`. */
export type PayloadIn<S extends StreamContract, T extends EventType<S>> = z.input<S['events'][T]['schema']>;

/** What a consumer reads for event `T` on stream `S`, once its schema accepted it. */
export type Payload<S extends StreamContract, T extends EventType<S>> = z.output<S['events'][T]['schema']>;
