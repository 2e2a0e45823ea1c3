import type { Logger } from '@stockgraph/logger';
import type { Sql } from 'postgres';

/** A write-ahead-log position as PostgreSQL prints it (`16/B374D848`), as a comparable number. */
export function parseLsn(text: string): bigint | null {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : null;
}

export interface ReplicaSettings {
  /** A replica further behind the primary than this (milliseconds of the primary's WAL) is out of rotation. */
  maxLagMs: number;
  /** How often each replica's health and replay position are probed. */
  checkIntervalMs: number;
}

export interface ReplicaStatus {
  index: number;
  inRotation: boolean;
  /** How long the replica has not reached a position the primary had; 0 when caught up. */
  lagMs: number;
}

/**
 * Where a read-only request's statements go: a replica's index, or the primary with why. `behind`: no
 * replica in rotation has replayed the caller's last write yet; `unavailable`: none is in rotation.
 */
export type ReadRoute = { replica: number } | { replica?: undefined; reason: 'behind' | 'unavailable' | 'asked' };

/** The caller's last write: its LSN, or `primary` when that is unknown (the gateway's store was unreachable). */
export type ReadAfter = bigint | 'primary' | undefined;

/** A replica's replay position read this recently serves `choose` without another round trip. */
const FRESH_MS = 5;
const PROBE_TIMEOUT_MS = 2000;

/**
 * Errors after which the statement is sent to the primary instead: the replica is unreachable or going
 * away (the replica is also taken out of rotation), a recovery conflict cancelled the statement, or
 * the statement wrote (a replica refuses every write).
 */
function retryOnPrimary(error: unknown): 'failed' | 'retry' | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  if (/^(08|57P)/.test(code) || /^(E[A-Z]+|CONNECT(ION)?_[A-Z_]+)$/.test(code)) return 'failed';
  if (code === '40001' || code === '25006') return 'retry';
  return null;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Replica {
  client: Sql;
  inRotation: boolean;
  replayed: bigint;
  replayedAt: number;
  lagMs: number;
  refreshing?: Promise<void>;
}

/**
 * Streaming replicas behind one primary: which one may serve a read, their health, and a client that
 * sends each statement where the current request was routed. Writes and transactions always go to
 * the primary. A replica serves a caller only once it has replayed the caller's last write (the LSN
 * the caller brings), so a client reads its own writes however far a replica lags; a replica that
 * fails, stops recovering (was promoted) or lags more than `maxLagMs` leaves the rotation until a probe
 * finds it well again.
 */
export class ReadReplicas {
  private readonly replicas: Replica[];
  /** The primary's WAL position over the last moments, to tell how long ago a replica's position was current. */
  private samples: { at: number; lsn: bigint }[] = [];
  private next = 0;
  private readonly timer: NodeJS.Timeout;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly primary: Sql,
    clients: Sql[],
    private readonly settings: ReplicaSettings,
    private readonly logger: Logger,
  ) {
    this.replicas = clients.map((client) => ({ client, inRotation: false, replayed: 0n, replayedAt: 0, lagMs: 0 }));
    this.timer = setInterval(() => void this.probe(), settings.checkIntervalMs).unref();
  }

  /** Probes every replica now; resolves when done (the first call puts healthy replicas into rotation). */
  probe(): Promise<void> {
    this.probing ??= this.probeAll().finally(() => (this.probing = undefined));
    return this.probing;
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((r, index) => ({ index, inRotation: r.inRotation, lagMs: r.lagMs }));
  }

  /** The primary's WAL insert position: every write committed so far lies before it. */
  async primaryLsn(): Promise<string> {
    const [row] = await this.primary.unsafe<{ lsn: string }[]>('select pg_current_wal_insert_lsn()::text as lsn');
    return row!.lsn;
  }

  /** Picks a replica in rotation that has replayed `after` (round robin), else the primary. */
  async choose(after: ReadAfter): Promise<ReadRoute> {
    if (after === 'primary') return { reason: 'asked' };
    const count = this.replicas.length;
    const start = this.next++ % count;
    let anyInRotation = false;
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      const replica = this.replicas[index]!;
      if (!replica.inRotation) continue;
      anyInRotation = true;
      if (after === undefined || replica.replayed >= after) return { replica: index };
      if (Date.now() - replica.replayedAt > FRESH_MS) {
        await this.refresh(replica).catch((error: unknown) => this.fail(index, error));
        if (replica.inRotation && replica.replayed >= after) return { replica: index };
      }
    }
    return { reason: anyInRotation ? 'behind' : 'unavailable' };
  }

  /**
   * A client for Drizzle: statements outside transactions go to the replica `route()` names for the
   * current request (the primary when it names none), transactions and everything else to the primary.
   * A statement a replica could not run for reasons of its own is run on the primary instead.
   */
  router(route: () => number | undefined, onRetried?: (index: number) => void): Sql {
    const replicas = this.replicas;
    const onReplica = (index: number, args: unknown[]) => {
      const run = (client: Sql, values: boolean) => {
        const query = (client.unsafe as (...a: unknown[]) => ReturnType<Sql['unsafe']>)(...args);
        return values ? query.values() : query;
      };
      const attempt = async (values: boolean): Promise<unknown> => {
        try {
          return await run(replicas[index]!.client, values);
        } catch (error) {
          const verdict = retryOnPrimary(error);
          if (!verdict) throw error;
          if (verdict === 'failed') this.fail(index, error);
          onRetried?.(index);
          return run(this.primary, values);
        }
      };
      // Drizzle either awaits the query or asks for `.values()` first; each runs it once.
      let started: Promise<unknown> | undefined;
      const result = () => (started ??= attempt(false));
      return {
        values: () => attempt(true),
        then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => result().then(ok, fail),
        catch: (fail: (e: unknown) => unknown) => result().catch(fail),
        finally: (done: () => void) => result().finally(done),
      };
    };
    return new Proxy(this.primary, {
      get: (target, property, receiver) => {
        if (property !== 'unsafe') return Reflect.get(target, property, receiver) as unknown;
        return (...args: unknown[]) => {
          const index = route();
          // A replica that left the rotation since the request was routed is not tried again.
          if (index === undefined || !replicas[index]?.inRotation)
            return (target.unsafe as (...a: unknown[]) => unknown)(...args);
          return onReplica(index, args);
        };
      },
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async probeAll(): Promise<void> {
    const now = Date.now();
    try {
      const lsn = parseLsn(await withTimeout(this.primaryLsn(), PROBE_TIMEOUT_MS));
      if (lsn !== null) this.samples.push({ at: now, lsn });
    } catch {
      // Without the primary's position the lag is unknown; replicas keep their standing meanwhile.
    }
    const horizon = now - this.settings.maxLagMs - 2 * this.settings.checkIntervalMs;
    while (this.samples.length > 1 && this.samples[0]!.at < horizon) this.samples.shift();
    await Promise.all(
      this.replicas.map(async (replica, index) => {
        try {
          await withTimeout(this.refresh(replica), PROBE_TIMEOUT_MS);
          replica.lagMs = this.lagOf(replica.replayed, now);
          const wasIn = replica.inRotation;
          replica.inRotation = replica.lagMs <= this.settings.maxLagMs;
          if (wasIn !== replica.inRotation)
            this.logger[replica.inRotation ? 'info' : 'warn'](
              { replica: index, lagMs: replica.lagMs },
              replica.inRotation ? 'read replica in rotation' : 'read replica lags: out of rotation',
            );
        } catch (error) {
          this.fail(index, error);
        }
      }),
    );
  }

  /** How long ago the primary first wrote past `replayed`, among the positions sampled. */
  private lagOf(replayed: bigint, now: number): number {
    const passed = this.samples.find((s) => s.lsn > replayed);
    return passed ? now - passed.at : 0;
  }

  private refresh(replica: Replica): Promise<void> {
    replica.refreshing ??= (async () => {
      const [row] = await replica.client.unsafe<{ recovering: boolean; replayed: string | null }[]>(
        'select pg_is_in_recovery() as recovering, pg_last_wal_replay_lsn()::text as replayed',
      );
      // A server no longer in recovery was promoted: its data has parted from the primary's.
      if (!row?.recovering) throw new Error('the replica is not in recovery (promoted?)');
      replica.replayed = parseLsn(row.replayed ?? '') ?? 0n;
      replica.replayedAt = Date.now();
    })().finally(() => (replica.refreshing = undefined));
    return replica.refreshing;
  }

  private fail(index: number, error: unknown): void {
    const replica = this.replicas[index]!;
    // Code and message only: a driver error can carry the statement's parameters.
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (replica.inRotation)
      this.logger.warn(
        { replica: index, code, reason: message },
        'read replica failed: out of rotation until a probe succeeds',
      );
    replica.inRotation = false;
  }
}
