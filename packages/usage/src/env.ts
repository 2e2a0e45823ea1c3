import { postgresUrl, z } from '@stockgraph/config';

const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The gateway's usage recording: spread into its env shape. Recording is off unless
 * USAGE_DATABASE_URL is set.
 */
export const usageEnvShape = {
  /** Where usage is kept (schema `usage`, created at start). Unset: nothing is recorded. */
  USAGE_DATABASE_URL: postgresUrl.optional(),
  /**
   * Share of operations recorded. Default 1, every one: once a document's coordinates are cached, an
   * operation costs a lookup and a counter increment per coordinate (1–2 µs for 15 coordinates and an
   * input variable on a development machine, against the milliseconds a gateway request takes), and
   * the rows a flush writes depend on distinct (client, version, coordinate) keys, not on traffic, so
   * sampling saves little. It costs precision: at 0.1 a coordinate used 20 times a month is missed one
   * month in eight, and schema:check --usage would call it unused. Lower it only when the recorder
   * shows in the gateway's CPU profile; counts are then estimates (samples ÷ rate).
   */
  USAGE_SAMPLE_RATE: z.coerce
    .number()
    .gt(0, 'above 0 (unset USAGE_DATABASE_URL to turn recording off)')
    .max(1)
    .default(1),
  /** Seconds between writes of the aggregated counts: one upsert per flush, whatever the traffic. */
  USAGE_FLUSH_SECONDS: whole(1, 3600).default(60),
  /** Days of usage kept; older hours are deleted at start and every hour. */
  USAGE_RETENTION_DAYS: whole(1, 3650).default(30),
  /**
   * Distinct (hour, client, version, coordinate) counts held between two flushes: a few megabytes at
   * most. An operation that would add beyond it is dropped (and counted) until the next flush.
   */
  USAGE_MAX_KEYS: whole(100, 1_000_000).default(50_000),
  /**
   * Distinct client name/version pairs recorded per hour by one gateway process; further pairs are
   * recorded as client `(other)`. Names come from request headers, so without this a caller sending a
   * new version each request would grow the table by a row per coordinate per request.
   */
  USAGE_MAX_CLIENTS_PER_HOUR: whole(1, 100_000).default(200),
};

export type UsageEnv = z.infer<z.ZodObject<typeof usageEnvShape>>;
