import type { Envelope } from './bus.js';

/** Why an event can never be applied, however often it is retried. */
export type UnprocessableKind = 'unknown-type' | 'invalid-payload';

/**
 * Thrown by a handler for an event no retry can fix (a type its stream does not declare, a payload its
 * schema refuses). The consumer parks it on the stream's dead-letter stream with the reason instead of
 * retrying it forever or acknowledging it as if it had been applied.
 */
export class UnprocessableEvent extends Error {
  constructor(
    readonly kind: UnprocessableKind,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'UnprocessableEvent';
  }
}

/** Where a stream's unprocessable events wait for a person: `<stream>.dead-letter`. */
export function deadLetterStream(stream: string): string {
  return `${stream}.dead-letter`;
}

/** What a dead-letter entry carries: the event as delivered, who could not apply it and why. */
export interface ParkedEvent {
  stream: string;
  group: string;
  kind: UnprocessableKind;
  reason: string;
  envelope: Envelope;
}
