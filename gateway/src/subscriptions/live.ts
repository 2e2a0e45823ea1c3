import { compareStreamIds, type EventBus, type StreamEntry } from '@stockgraph/events';
import { CodedError } from '@stockgraph/graphql-kit';
import type { ExecutionResult, GraphQLError } from 'graphql';

/** An event this subscription takes, decoded once per entry for every subscriber of the process. */
export interface Accepted {
  entry: StreamEntry;
  payload: unknown;
}

export interface LiveOptions {
  bus: EventBus;
  stream: string;
  /** Read from after this id (exclusive) before going live. */
  startId: string;
  /** Registers for live entries; returns how to stop. Entries it passes on are already accepted. */
  listen(onEntry: (accepted: Accepted) => void): () => void;
  /** Whether this subscriber gets this entry (decoded, filtered, visible to them); null when not. */
  accept(entry: StreamEntry): Accepted | null;
  /** The result sent for an event; null to send nothing (the caller may no longer see it). */
  resolve(accepted: Accepted): Promise<ExecutionResult | null>;
  /** Events yielded to the transport that it has not written to the client yet (0 when it awaits each). */
  unwritten(): number;
  backlogMax: number;
  /** Re-checks the subscriber's session; resolves with the error that ends the subscription, or null. */
  recheck(): Promise<GraphQLError | null>;
  recheckMs: number;
  /**
   * Charges for `events` events read back from the stream before going live (a resume replays up to
   * the stream's whole retention); resolves with the error that ends the subscription, or null.
   */
  meterCatchUp?(events: number): Promise<GraphQLError | null>;
  /** Called once, however the subscription ends. */
  onEnd(): void;
}

const CATCH_UP_PAGE = 200;

const endWith = (error: GraphQLError): ExecutionResult => ({ data: null, errors: [error] });

/**
 * One subscriber's events: first everything after its starting point (a resume, or the stream's head
 * when it subscribed), then live entries from the process's shared reader, each exactly once and in
 * stream order. Live entries arriving during the catch-up wait in the queue and are skipped if the
 * catch-up already delivered them. The queue is bounded: a subscriber more than `backlogMax` events
 * behind is dropped with SLOW_CONSUMER, so a slow client never grows the gateway's memory.
 */
/** A subscriber's events, which can also be ended with a last result (the gateway stopping). */
export interface LiveEvents extends AsyncIterableIterator<ExecutionResult> {
  /** Sends `error` as the last result once the event in hand (if any) is sent, then ends. */
  endWith(error: GraphQLError): void;
}

interface Control {
  closed: boolean;
  nudge: () => void;
  end: (error: GraphQLError) => void;
}

export function liveEvents(options: LiveOptions): LiveEvents {
  const control: Control = { closed: false, nudge: () => {}, end: () => {} };
  const inner = run(options, control);
  // An async generator waiting for its next event would queue return() until that event came, which
  // may be never: closing wakes it first, so a client that leaves frees its subscription at once.
  const close = () => {
    control.closed = true;
    control.nudge();
  };
  return {
    endWith: (error) => control.end(error),
    next: () => inner.next(),
    return: (value?: unknown) => {
      close();
      return inner.return(value as undefined);
    },
    throw: (error?: unknown) => {
      close();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* run(options: LiveOptions, control: Control): AsyncGenerator<ExecutionResult, undefined> {
  const queue: Accepted[] = [];
  let ending: GraphQLError | null = null;
  let wake: (() => void) | null = null;
  const nudge = () => {
    wake?.();
    wake = null;
  };
  control.nudge = nudge;
  const end = (error: GraphQLError) => {
    ending ??= error;
    queue.length = 0;
    nudge();
  };
  control.end = end;
  const stopListening = options.listen((accepted) => {
    if (ending) return;
    queue.push(accepted);
    if (queue.length + options.unwritten() > options.backlogMax) {
      end(
        new CodedError(
          `This subscriber fell more than ${options.backlogMax} events behind and was dropped; reconnect with the last stream id to resume`,
          'SLOW_CONSUMER',
        ),
      );
    }
    nudge();
  });
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void options
      .recheck()
      .then((error) => error && end(error))
      .finally(() => (checking = false));
  }, options.recheckMs);
  timer.unref();
  let last = options.startId;
  try {
    for (;;) {
      const page = await options.bus.tail(options.stream, last, CATCH_UP_PAGE, 0);
      const taken = page.map((entry) => options.accept(entry));
      const count = taken.filter(Boolean).length;
      const refused = count > 0 && options.meterCatchUp ? await options.meterCatchUp(count) : null;
      if (refused) {
        yield endWith(refused);
        return undefined;
      }
      for (const [index, entry] of page.entries()) {
        last = entry.id;
        const accepted = taken[index];
        if (!accepted) continue;
        const result = await options.resolve(accepted);
        if (ending || control.closed) break;
        if (result) yield result;
      }
      if (page.length < CATCH_UP_PAGE || ending || control.closed) break;
    }
    for (;;) {
      if (control.closed) return undefined;
      if (ending) {
        yield endWith(ending);
        return undefined;
      }
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (compareStreamIds(next.entry.id, last) <= 0) continue;
      last = next.entry.id;
      const result = await options.resolve(next);
      if (result && !ending) yield result;
    }
  } finally {
    clearInterval(timer);
    stopListening();
    options.onEnd();
  }
}
