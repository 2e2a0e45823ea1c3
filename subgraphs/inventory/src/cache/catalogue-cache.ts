import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '@stockgraph/logger';
import { Counter, type Registry } from 'prom-client';
import type { ProductRow } from '../db/schema.js';
import { createRedisStore, type RedisStore } from './redis-store.js';

type Kind = 'entity' | 'sku' | 'list' | 'count';
type Result = 'hit' | 'miss' | 'error';

/**
 * A read-through cache of the catalogue. Every read works without it: a miss, a Redis error or an
 * open breaker reads Postgres. Writers call `invalidate` after their commit; the event follower
 * calls it for changes other processes committed.
 */
export interface CatalogueCache {
  readonly enabled: boolean;
  byIds(
    ids: readonly string[],
    load: (ids: readonly string[]) => Promise<(ProductRow | null)[]>,
  ): Promise<(ProductRow | null)[]>;
  bySkus(
    skus: readonly string[],
    loadBySkus: (skus: readonly string[]) => Promise<(ProductRow | null)[]>,
    loadByIds: (ids: readonly string[]) => Promise<(ProductRow | null)[]>,
  ): Promise<(ProductRow | null)[]>;
  /**
   * A list page or count, keyed by its arguments under the catalogue version any product change
   * replaces. Only a value `worthKeeping` says is worth it is stored (an empty page is not): callers
   * choose the arguments, and a key per invented filter would let anyone fill Redis (issue 28, 15).
   */
  listed<T>(
    kind: 'list' | 'count',
    key: unknown,
    load: () => Promise<T>,
    worthKeeping: (value: T) => boolean,
  ): Promise<T>;
  /** Drops these products and every list; never throws (what Redis refuses now is retried when it is back). */
  invalidate(productIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The cache switched off (CATALOGUE_CACHE_TTL_MS=0, or no Redis): every read goes to Postgres. */
export const noCache: CatalogueCache = {
  enabled: false,
  byIds: (ids, load) => load(ids),
  bySkus: (skus, loadBySkus) => loadBySkus(skus),
  listed: (_kind, _key, load) => load(),
  invalidate: async () => {},
  close: async () => {},
};

const DATES = ['createdAt', 'updatedAt'] as const;
const revive = (key: string, value: unknown) =>
  (DATES as readonly string[]).includes(key) && typeof value === 'string' ? new Date(value) : value;
/** A cached list or count: its rows' dates revived wherever they are. */
const parse = <T>(text: string): T => JSON.parse(text, revive) as T;
/**
 * A cached product row, its two dates turned back into Dates afterwards: a reviver calls back into
 * JavaScript for every key and made JSON.parse ~5× slower (5.4 against 1.0 µs a row), about 12% of the
 * inventory subgraph's CPU under the gateway's fan-out read, which reads every product by id from here.
 */
const parseRow = (text: string): ProductRow => {
  const row = JSON.parse(text) as ProductRow;
  for (const key of DATES) {
    const value: unknown = row[key];
    if (typeof value === 'string') row[key] = new Date(value);
  }
  return row;
};

// Random, never a counter: a version key that was evicted or flushed and made again can never name
// the entries written under an earlier one.
const newToken = () => randomBytes(9).toString('base64url');
/** How often invalidations Redis refused are tried again. */
const RETRY_MS = 250;

export interface CatalogueCacheOptions {
  url: string;
  /** Key prefix, so deployments and test runs can share one Redis. */
  prefix: string;
  ttlMs: number;
  /**
   * How far behind a read replica in rotation may be (0 without replicas). A miss read from a replica
   * that has not yet replayed a change stores the old row under the new token, so every invalidation
   * is repeated once this long after the first.
   */
  replicaLagMs?: number;
  logger: Logger;
  registry: Registry;
}

export function createCatalogueCache(options: CatalogueCacheOptions): CatalogueCache {
  const store = createRedisStore(options.url, options.logger);
  return catalogueCache(store, options);
}

export function catalogueCache(
  store: RedisStore,
  { prefix, ttlMs, replicaLagMs = 0, logger, registry }: Omit<CatalogueCacheOptions, 'url'>,
): CatalogueCache {
  const lookups = new Counter({
    name: 'stockgraph_catalogue_cache_lookups_total',
    help: 'Catalogue cache lookups by kind (entity by id, sku, list page, list count) and result (hit, miss, error: Redis failed or its breaker was open, so Postgres answered)',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const count = (kind: Kind, result: Result, n = 1) => n > 0 && lookups.inc({ kind, result }, n);
  const px = { expiration: { type: 'PX' as const, value: ttlMs } };
  const versionKey = (id: string) => `${prefix}pv:${id}`;
  const entryKey = (id: string, token: string) => `${prefix}p:${id}:${token}`;
  const skuKey = (sku: string) => `${prefix}sku:${sku}`;
  const listVersionKey = `${prefix}lv`;
  const listKey = (kind: string, token: string, key: unknown) =>
    `${prefix}${kind}:${token}:${createHash('sha1').update(JSON.stringify(key)).digest('base64url')}`;

  /** Ids and whether the lists must go too, that Redis refused to drop: dropped once it answers again. */
  const pending = { ids: new Set<string>(), lists: false };
  let retry: NodeJS.Timeout | undefined;
  const flushPending = async () => {
    if (!pending.lists) return;
    const ids = [...pending.ids];
    pending.ids.clear();
    pending.lists = false;
    await drop(ids);
  };
  store.onRecovered = flushPending;

  /** Without throwing: what fails is kept and retried until Redis takes it. */
  async function drop(productIds: readonly string[], run = store.attempt): Promise<void> {
    try {
      await run((c) => c.del([...productIds.map(versionKey), listVersionKey]));
    } catch (error) {
      for (const id of productIds) pending.ids.add(id);
      if (!pending.lists) logger.warn({ err: error }, 'catalogue cache: invalidation deferred until redis answers');
      pending.lists = true;
      retry ??= setTimeout(() => {
        retry = undefined;
        void flushPending();
      }, RETRY_MS).unref();
    }
  }

  /**
   * The current version tokens of these keys, making one where none exists. A token made here is
   * set before Postgres is read, so a write committed after that read drops it; where another reader
   * made it first, null: this read is not stored.
   */
  async function tokensOf(keys: string[]): Promise<(string | null)[]> {
    const tokens = await store.run((c) => c.mGet(keys));
    const missing = tokens.flatMap((t, i) => (t === null ? [i] : []));
    if (missing.length === 0) return tokens;
    const made = missing.map(() => newToken());
    const replies = await store.run((c) => {
      const multi = c.multi();
      missing.forEach((i, n) => multi.set(keys[i]!, made[n]!, { condition: 'NX', ...px }));
      return multi.exec();
    });
    missing.forEach((i, n) => (tokens[i] = String(replies[n]) === 'OK' ? made[n]! : null));
    return tokens;
  }

  function storeLater(entries: [string, string][]): void {
    if (entries.length === 0) return;
    store
      .run((c) => {
        const multi = c.multi();
        for (const [key, value] of entries) multi.set(key, value, px);
        return multi.exec();
      })
      .catch(() => undefined);
  }

  async function byIds(
    ids: readonly string[],
    load: (ids: readonly string[]) => Promise<(ProductRow | null)[]>,
  ): Promise<(ProductRow | null)[]> {
    let tokens: (string | null)[];
    let cached: (string | null)[];
    try {
      tokens = await tokensOf(ids.map(versionKey));
      const keyed = ids.flatMap((id, i) => (tokens[i] ? [entryKey(id, tokens[i])] : []));
      const found = keyed.length > 0 ? await store.run((c) => c.mGet(keyed)) : [];
      let n = 0;
      cached = tokens.map((t) => (t ? (found[n++] ?? null) : null));
    } catch {
      count('entity', 'error', ids.length);
      return load(ids);
    }
    const result: (ProductRow | null)[] = cached.map((text) => (text === null ? null : parseRow(text)));
    const missed = ids.flatMap((_, i) => (cached[i] === null ? [i] : []));
    count('entity', 'hit', ids.length - missed.length);
    count('entity', 'miss', missed.length);
    if (missed.length === 0) return result;
    const loaded = await load(missed.map((i) => ids[i]!));
    const toStore: [string, string][] = [];
    const nameNothing: string[] = [];
    missed.forEach((i, n) => {
      const row = loaded[n] ?? null;
      result[i] = row;
      if (row && tokens[i]) toStore.push([entryKey(row.id, tokens[i]), JSON.stringify(row)]);
      if (!row) nameNothing.push(versionKey(ids[i]!));
    });
    storeLater(toStore);
    // The version keys just made for ids that name no product go again: anyone can ask for random ids,
    // and each would leave a key for the TTL. Dropping a version key only ever invalidates.
    if (nameNothing.length > 0) store.run((c) => c.del(nameNothing)).catch(() => undefined);
    return result;
  }

  // A SKU never changes and products are never deleted, so SKU -> id needs no version; the product
  // itself comes through byIds and its version.
  async function bySkus(
    skus: readonly string[],
    loadBySkus: (skus: readonly string[]) => Promise<(ProductRow | null)[]>,
    loadByIds: (ids: readonly string[]) => Promise<(ProductRow | null)[]>,
  ): Promise<(ProductRow | null)[]> {
    let ids: (string | null)[];
    try {
      ids = await store.run((c) => c.mGet(skus.map(skuKey)));
    } catch {
      count('sku', 'error', skus.length);
      return loadBySkus(skus);
    }
    const known = ids.flatMap((id, i) => (id ? [i] : []));
    const unknown = ids.flatMap((id, i) => (id ? [] : [i]));
    count('sku', 'hit', known.length);
    count('sku', 'miss', unknown.length);
    const result: (ProductRow | null)[] = skus.map(() => null);
    const [viaIds, direct] = await Promise.all([
      known.length > 0
        ? byIds(
            known.map((i) => ids[i]!),
            loadByIds,
          )
        : [],
      unknown.length > 0 ? loadBySkus(unknown.map((i) => skus[i]!)) : [],
    ]);
    known.forEach((i, n) => (result[i] = viaIds[n] ?? null));
    unknown.forEach((i, n) => (result[i] = direct[n] ?? null));
    storeLater(direct.flatMap((row) => (row ? [[skuKey(row.sku), row.id] as [string, string]] : [])));
    return result;
  }

  async function listed<T>(
    kind: 'list' | 'count',
    key: unknown,
    load: () => Promise<T>,
    worthKeeping: (value: T) => boolean,
  ): Promise<T> {
    let token: string | null;
    let text: string | null;
    try {
      token = (await tokensOf([listVersionKey]))[0] ?? null;
      text = token ? await store.run((c) => c.get(listKey(kind, token!, key))) : null;
    } catch {
      count(kind, 'error');
      return load();
    }
    if (text !== null) {
      count(kind, 'hit');
      return parse<T>(text);
    }
    count(kind, 'miss');
    const value = await load();
    if (token && worthKeeping(value)) storeLater([[listKey(kind, token, key), JSON.stringify(value)]]);
    return value;
  }

  const later = new Set<NodeJS.Timeout>();
  const invalidate = async (productIds: readonly string[]) => {
    await drop(productIds, store.run);
    if (replicaLagMs <= 0) return;
    const timer = setTimeout(() => {
      later.delete(timer);
      void drop(productIds, store.run);
    }, replicaLagMs).unref();
    later.add(timer);
  };

  return {
    enabled: true,
    byIds,
    bySkus,
    listed,
    invalidate,
    close: async () => {
      clearTimeout(retry);
      for (const timer of later) clearTimeout(timer);
      await store.close();
    },
  };
}
