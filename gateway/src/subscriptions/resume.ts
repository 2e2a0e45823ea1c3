import { BadUserInputError, CodedError } from '@stockgraph/graphql-kit';
import { compareStreamIds, STREAM_ID, type EventBus } from '@stockgraph/events';

/** The largest part of a Redis stream id (an unsigned 64-bit integer each side of the dash). */
const MAX_PART = 2n ** 64n - 1n;

/** How far ahead of this gateway's clock a resume id may be (clock skew between Redis and us). */
const FUTURE_SLACK_MS = 60_000;

/**
 * Where a subscription starts reading its stream: after the id the client last saw, or — for a new
 * subscription — after the stream's newest entry, read now, so an event published while the
 * subscription is being set up is delivered rather than lost between two reads.
 * A resume id older than what the stream still holds is refused with RESUME_EXPIRED: the client has
 * missed events it cannot get, and must reload its state and subscribe afresh.
 */
export async function startingPoint(bus: EventBus, stream: string, lastEventId: string | null): Promise<string> {
  const position = await bus.position(stream);
  if (lastEventId === null) return position.lastId;
  if (!STREAM_ID.test(lastEventId))
    throw new BadUserInputError('lastEventId must be a stream id as delivered, e.g. 1764331200000-0', 'lastEventId');
  const [ms, sequence] = lastEventId.split('-');
  // Redis refuses a larger part with an error, which ended the stream silently and logged a stack.
  if (BigInt(ms!) > MAX_PART || BigInt(sequence ?? 0) > MAX_PART)
    throw new BadUserInputError(`lastEventId parts must be at most ${MAX_PART}`, 'lastEventId');
  if (Number(ms) > Date.now() + FUTURE_SLACK_MS && compareStreamIds(lastEventId, position.lastId) > 0)
    throw new BadUserInputError('lastEventId is later than any event of this stream', 'lastEventId');
  if (!(await bus.retainsAfter(stream, lastEventId))) {
    throw new CodedError(
      `Some events after ${lastEventId} are no longer kept; reload the data and subscribe again`,
      'RESUME_EXPIRED',
    );
  }
  return lastEventId;
}
