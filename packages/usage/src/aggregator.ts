const HOUR_MS = 3_600_000;

/** The client recorded once USAGE_MAX_CLIENTS_PER_HOUR pairs were seen this hour. */
export const OTHER_CLIENT = '(other)';

/** Longest client name or version kept; the gateway's own check allows 64 characters. */
export const CLIENT_TEXT_MAX = 100;

export interface Client {
  name: string;
  version: string;
}

/** One row of a flush: what the store upserts. */
export interface UsageRow {
  hour: Date;
  clientName: string;
  clientVersion: string;
  coordinate: string;
  samples: number;
  lastSeen: Date;
}

export interface Batch {
  rows: UsageRow[];
  /** Operations whose counts the rows hold: what is lost if the batch cannot be written. */
  operations: number;
}

interface Entry {
  samples: number;
  lastSeen: number;
}

interface Bucket {
  hour: number;
  client: Client;
  entries: Map<string, Entry>;
}

export interface AggregatorLimits {
  /** Distinct (hour, client, version, coordinate) keys held until the next take(). */
  maxKeys: number;
  /** Distinct client name/version pairs per hour; the rest count as OTHER_CLIENT. */
  maxClientsPerHour: number;
}

/** Defensive: the strings go into a Postgres text array and a report, never longer than this. */
function bounded(text: string): string {
  // eslint-disable-next-line no-control-regex -- NUL and other control characters are what is removed
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '');
  return clean.length > CLIENT_TEXT_MAX ? clean.slice(0, CLIENT_TEXT_MAX) : clean;
}

/**
 * Operation counts per (hour, client, version, coordinate) between two flushes. Adding an operation
 * is a map lookup per coordinate; it either goes in whole or, when it would pass the key bound, not at
 * all, so a count never holds half an operation.
 */
export class UsageAggregator {
  /** This batch's counts, by hour and client as recorded. */
  private buckets = new Map<string, Bucket>();
  /** This hour's buckets by client as sent: the usual request finds its bucket in one lookup. */
  private readonly sent = new Map<string, Bucket>();
  private keys = 0;
  private operations = 0;
  private hour = -1;
  /** Client name/version pairs recorded this hour, for the cap. */
  private readonly clients = new Set<string>();

  constructor(private readonly limits: AggregatorLimits) {}

  /** Keys held now. */
  get size(): number {
    return this.keys;
  }

  /**
   * Counts one operation's coordinates: `named` always, `extra` (from its variables) where not in
   * `known` already. Returns false when it was left out because the key bound is reached.
   */
  add(now: number, client: Client, named: readonly string[], known: ReadonlySet<string>, extra?: Set<string>): boolean {
    const hour = now - (now % HOUR_MS);
    if (hour !== this.hour) {
      this.hour = hour;
      this.clients.clear();
      this.sent.clear();
    }
    const pair = `${client.name}\u0000${client.version}`;
    let bucket = this.sent.get(pair);
    if (!bucket) {
      bucket = this.bucketOf(hour, client);
      this.sent.set(pair, bucket);
    }
    const { entries } = bucket;
    // Counting the keys an operation would add costs a second pass: only near the bound.
    if (this.keys + named.length + (extra?.size ?? 0) > this.limits.maxKeys) {
      let fresh = 0;
      for (const coordinate of named) if (!entries.has(coordinate)) fresh++;
      if (extra) for (const coordinate of extra) if (!known.has(coordinate) && !entries.has(coordinate)) fresh++;
      if (this.keys + fresh > this.limits.maxKeys) return false;
    }
    for (const coordinate of named) this.count(entries, coordinate, now);
    if (extra) for (const coordinate of extra) if (!known.has(coordinate)) this.count(entries, coordinate, now);
    this.operations++;
    return true;
  }

  /** Everything counted so far, as rows; the aggregator starts empty again. */
  take(): Batch {
    const buckets = this.buckets;
    const operations = this.operations;
    this.buckets = new Map();
    this.sent.clear();
    this.keys = 0;
    this.operations = 0;
    const rows: UsageRow[] = [];
    for (const { hour, client, entries } of buckets.values()) {
      const at = new Date(hour);
      for (const [coordinate, entry] of entries)
        rows.push({
          hour: at,
          clientName: client.name,
          clientVersion: client.version,
          coordinate,
          samples: entry.samples,
          lastSeen: new Date(entry.lastSeen),
        });
    }
    return { rows, operations };
  }

  private count(entries: Map<string, Entry>, coordinate: string, now: number): void {
    const entry = entries.get(coordinate);
    if (entry) {
      entry.samples++;
      entry.lastSeen = now;
    } else {
      entries.set(coordinate, { samples: 1, lastSeen: now });
      this.keys++;
    }
  }

  /** The batch's bucket for a client as recorded: bounded text, one of at most maxClientsPerHour pairs. */
  private bucketOf(hour: number, client: Client): Bucket {
    let who = { name: bounded(client.name), version: bounded(client.version) };
    const pair = `${who.name}\u0000${who.version}`;
    if (!this.clients.has(pair)) {
      if (this.clients.size >= this.limits.maxClientsPerHour) who = { name: OTHER_CLIENT, version: OTHER_CLIENT };
      else this.clients.add(pair);
    }
    const key = `${hour}\u0000${who.name}\u0000${who.version}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { hour, client: who, entries: new Map() }));
    return bucket;
  }
}
