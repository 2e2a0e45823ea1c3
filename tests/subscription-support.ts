import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { UntypedData } from '@stockgraph/testkit';
import WebSocket from 'ws';

export interface SseEvent {
  id?: string;
  event: string;
  data: UntypedData;
}

/** Waits for items pushed by a live source; `next()` rejects after `timeoutMs` rather than hanging a test. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | null = null;
  ended = false;

  push(item: T) {
    this.items.push(item);
    this.waiter?.();
  }

  end() {
    this.ended = true;
    this.waiter?.();
  }

  async next(timeoutMs = 30_000, label = 'an event'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      if (this.ended) throw new Error(`the stream ended before ${label}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${label} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.items.shift()!;
  }

  /** The next item that satisfies `match`, dropping others. */
  async find(match: (item: T) => boolean, timeoutMs = 30_000, label = 'a matching event'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.next(Math.max(1, deadline - Date.now()), label);
      if (match(item)) return item;
    }
  }
}

export interface SseStream {
  status: number;
  /** The JSON body when the gateway refused the operation before streaming. */
  body?: { errors: { message: string; extensions?: Record<string, unknown> }[] };
  events: Inbox<SseEvent>;
  close(): void;
}

/** A GraphQL over SSE request as a browser or curl sends it, reading `id`, `event` and `data` lines. */
export async function openSse(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const events = new Inbox<SseEvent>();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const body = (await response.json()) as SseStream['body'];
    return { status: response.status, body, events, close: () => abort.abort() };
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || !line.includes(':')) continue;
            const at = line.indexOf(':');
            fields[line.slice(0, at)] = line.slice(at + 1).trimStart();
          }
          if (!fields.event) continue;
          events.push({ id: fields.id, event: fields.event, data: fields.data ? JSON.parse(fields.data) : null });
        }
      }
    } catch {
      // aborted by close()
    } finally {
      events.end();
    }
  })();
  return { status: response.status, events, close: () => abort.abort() };
}

export interface WsResult {
  data?: UntypedData;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: { streamId?: string };
}

/** A WebSocket that sends `headers` with its upgrade request (as a proxy in front would add them). */
const withHeaders = (headers: Record<string, string>) =>
  class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };

/** A graphql-ws client over the `ws` package, recording how its socket closed. */
export function openWs(url: string, connectionParams: Record<string, unknown>, headers?: Record<string, string>) {
  const closed = new Inbox<{ code: number; reason: string }>();
  const client: WsClient = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: headers ? withHeaders(headers) : WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => closed.push(event as { code: number; reason: string }) },
  });
  return {
    client,
    closed,
    /** Starts one operation; its results (and its error, as a result with errors) arrive in the inbox. */
    subscribe(query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>) {
      const results = new Inbox<WsResult>();
      const stop = client.subscribe<unknown>(
        { query, variables, extensions },
        {
          next: (value) => results.push(value as WsResult),
          error: (error) => {
            const errors = Array.isArray(error) ? error : [{ message: String((error as Error).message ?? error) }];
            results.push({ errors });
            results.end();
          },
          complete: () => results.end(),
        },
      );
      return { results, stop };
    },
    close: () => client.dispose(),
  };
}
