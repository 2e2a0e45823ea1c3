import { connectWithin, openRedis, type RedisLog } from '@stockgraph/redis';

/**
 * Sessions ended before their access tokens expire (logout, a reused refresh token, a deactivated or
 * re-roled user, a changed password). The users service writes them; the gateway and every subgraph
 * read them, so a revoked token is refused everywhere within one refresh interval, without a call to
 * the users service per request.
 */
export interface RevocationList {
  isRevoked(sessionId: string): boolean;
  /** Milliseconds since the list was last known complete; 0 for the in-process list. */
  ageMs(): number;
  /** Records ended sessions; their access tokens live at most `tokenTtlSeconds` more. */
  revoke(sessionIds: readonly string[], tokenTtlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

/** Clock differences between processes: entries are kept this much longer than a token can live. */
const SKEW_MARGIN_MS = 60_000;

/**
 * The in-process list: one per process, shared by every service in it (the embedded launcher runs
 * them all in one process). Session ids are UUIDv7s, unique across instances, so sharing is harmless.
 */
const local = new Map<string, number>();

function forget(now = Date.now()) {
  for (const [id, until] of local) if (until <= now) local.delete(id);
}

function rememberLocally(sessionIds: readonly string[], until: number) {
  forget();
  for (const id of sessionIds) local.set(id, until);
}

/** The revocation list of services in this process; what embedded mode (no REDIS_URL) uses. */
export function localRevocations(): RevocationList {
  return {
    isRevoked: (sessionId) => (local.get(sessionId) ?? 0) > Date.now(),
    ageMs: () => 0,
    revoke: async (sessionIds, ttl) => rememberLocally(sessionIds, Date.now() + ttl * 1000 + SKEW_MARGIN_MS),
    close: async () => {},
  };
}

export interface RedisRevocationOptions {
  url: string;
  /** A sorted set: member = session id, score = when its last access token has surely expired (epoch ms). */
  key: string;
  refreshMs: number;
  logger: RedisLog;
  /** How long to wait for the first connection at start before going on without Redis. */
  firstConnectionWaitMs?: number;
}

/**
 * The list kept in Redis (the saga's Redis, which must not evict: a lost entry would make a revoked
 * token good again). Each process re-reads the live entries every `refreshMs` into memory, so a
 * request costs a Set lookup. While Redis is unreachable the last list read stays in force and
 * `ageMs()` grows; writes that failed are retried at every tick until Redis takes them.
 */
export async function createRedisRevocations(options: RedisRevocationOptions): Promise<RevocationList> {
  const { key, logger } = options;
  const client = openRedis(options.url, logger, { role: 'revocation list', fallback: 'keeping the last list read' });
  let revoked = new Set<string>();
  let loadedAt = 0;
  const pending = new Map<string, number>();

  async function flush() {
    if (pending.size === 0) return;
    const entries = [...pending].map(([value, score]) => ({ value, score }));
    const now = Date.now();
    const last = Math.max(...entries.map((e) => e.score));
    // The set lives as long as its longest entry. GT alone never sets an expiry on a key without one
    // (Redis treats no TTL as an infinite one), so NX gives the first and GT pushes it out after.
    await client
      .multi()
      .zAdd(key, entries, { comparison: 'GT' })
      .zRemRangeByScore(key, '-inf', now)
      .pExpireAt(key, last, 'NX')
      .pExpireAt(key, last, 'GT')
      .exec();
    for (const { value, score } of entries) if (pending.get(value) === score) pending.delete(value);
  }

  async function refresh() {
    try {
      await flush();
      const started = Date.now();
      const members = await client.zRangeByScore(key, started, '+inf');
      revoked = new Set(members);
      loadedAt = started;
    } catch {
      // Logged once per outage by the error handler; the last list read stays in force.
    }
  }

  let timer: NodeJS.Timeout | undefined;
  await connectWithin(client, options.firstConnectionWaitMs ?? 2000);
  await refresh();
  let stopped = false;
  const tick = () => {
    timer = setTimeout(() => void refresh().finally(() => !stopped && tick()), options.refreshMs);
    timer.unref();
  };
  tick();

  return {
    isRevoked: (sessionId) => revoked.has(sessionId) || (local.get(sessionId) ?? 0) > Date.now(),
    ageMs: () => (loadedAt ? Date.now() - loadedAt : Number.POSITIVE_INFINITY),
    revoke: async (sessionIds, ttl) => {
      if (sessionIds.length === 0) return;
      const until = Date.now() + ttl * 1000 + SKEW_MARGIN_MS;
      // This process honours it at once; the others at their next refresh.
      rememberLocally(sessionIds, until);
      for (const id of sessionIds) pending.set(id, until);
      try {
        await flush();
      } catch (error) {
        const message = 'revocation list: write failed; retrying until redis takes it';
        logger.warn({ err: error, sessions: sessionIds.length }, message);
      }
    },
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      await client.close().catch(() => undefined);
    },
  };
}
