import { ensureMonthlyPartitions, openDatabase, rowsOf, type DatabaseHandle } from '@stockgraph/db';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@stockgraph/logger';
import { archiveMonth, monthlyPartitions } from '@stockgraph/ops';
import { graphql, startStack, type Stack } from '@stockgraph/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Stock as of any moment (issue 30, item 1), through the gateway: a product with 400 days of ledger
 * written as the legacy import writes it (rows with their own times, the ledger's trigger keeping the
 * daily sums), then every answer compared with a replay of the ledger up to that moment.
 */
/** A UUIDv7 of the given moment, as the services' ids are (the ledger's id names its partition by time). */
function newId(at: Date): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(at.getTime(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

let stack: Stack;
let handle: DatabaseHandle<Record<string, never>>;
const DAY = 86_400_000;
const now = Date.now();
const start = now - 400 * DAY;
const TABLE = { schema: 'inventory', table: 'stock_movements' };

interface Movement {
  at: number;
  delta: number;
  reason: 'RECEIPT' | 'SALE' | 'ADJUSTMENT' | 'RETURN' | 'RESERVATION' | 'RELEASE';
}

/** A deterministic history: receipts, sales, corrections, reservations and their releases, several a day. */
function history(): Movement[] {
  const moves: Movement[] = [{ at: start + 1000, delta: 500, reason: 'RECEIPT' }];
  let onHand = 500;
  let reserved = 0;
  let seed = 7;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  for (let at = start + DAY / 3; at < now - 2 * DAY; at += Math.floor(random() * DAY * 0.9) + 60_000) {
    const r = random();
    if (r < 0.3 && onHand - reserved > 5) {
      const q = 1 + Math.floor(random() * 5);
      moves.push({ at, delta: q, reason: 'RESERVATION' });
      reserved += q;
    } else if (r < 0.5 && reserved > 0) {
      const q = Math.min(reserved, 1 + Math.floor(random() * 3));
      moves.push({ at, delta: -q, reason: 'RELEASE' });
      reserved -= q;
      if (random() < 0.7) {
        moves.push({ at: at + 1, delta: -q, reason: 'SALE' });
        onHand -= q;
      }
    } else if (r < 0.75) {
      const q = 10 + Math.floor(random() * 40);
      moves.push({ at, delta: q, reason: 'RECEIPT' });
      onHand += q;
    } else if (onHand - reserved > 3) {
      const q = random() < 0.5 ? -2 : 3;
      moves.push({ at, delta: q, reason: q > 0 ? 'RETURN' : 'ADJUSTMENT' });
      onHand += q;
    }
  }
  return moves;
}

const moves = history();
/** What the ledger says at `at`: every movement up to and including that moment. */
const replay = (at: number) => {
  let onHand = 0;
  let reserved = 0;
  for (const m of moves)
    if (m.at <= at) {
      if (m.reason === 'RESERVATION' || m.reason === 'RELEASE') reserved += m.delta;
      else onHand += m.delta;
    }
  return { onHand, reserved, available: onHand - reserved };
};
const finalLevels = replay(now);

let productId: string;
let sku: string;
const COSTS = [
  { at: start, cost: '4.00' },
  { at: start + 200 * DAY, cost: '5.50' },
];

const ask = async (query: string, variables: Record<string, unknown>, role: 'MANAGER' | 'VIEWER' = 'MANAGER') =>
  graphql(stack.gateway.url, query, variables, await stack.as(role));
const STOCK_AT =
  'query ($id: ID!, $at: DateTime!) { product(id: $id) { stockAt(at: $at) { at onHand reserved available } } }';

beforeAll(async () => {
  stack = await startStack();
  handle = await openDatabase({
    url: stack.database.url,
    poolMax: 2,
    schema: {},
    logger: createLogger('test', 'silent'),
  });
  const db = handle.db;
  productId = newId(new Date(start));
  sku = `HIST-${productId.slice(-8)}`;
  // Each month of the history gets its own partition, as in production.
  await ensureMonthlyPartitions(db, TABLE, new Date(start), new Date(now));
  await db.execute(sql`
    insert into inventory.products (id, sku, name, category, unit_price, cost_price, on_hand, reserved, created_at, updated_at)
    values (${productId}, ${sku}, 'History probe', 'History', '9.90', ${COSTS[1]!.cost}, ${finalLevels.onHand},
      ${finalLevels.reserved}, ${new Date(start).toISOString()}, ${new Date(start).toISOString()})`);
  for (const { at, cost } of COSTS)
    await db.execute(sql`
      insert into inventory.price_history (id, product_id, unit_price, cost_price, changed_at)
      values (${newId(new Date(at))}, ${productId}, '9.90', ${cost}, ${new Date(at).toISOString()})`);
  for (const m of moves) {
    const at = new Date(m.at);
    await db.execute(sql`
      insert into inventory.stock_movements (id, created_at, product_id, delta, reason)
      values (${newId(at)}, ${at.toISOString()}, ${productId}, ${m.delta}, ${m.reason})`);
  }
}, 180_000);

afterAll(async () => {
  await handle?.close();
  await stack?.stop();
});

/** Moments across the history: movement times exactly, just before them, day ends and random instants. */
function moments(): number[] {
  const picks = new Set<number>([start + 1000, start + 999, now - DAY, now - 1000]);
  for (let i = 0; i < moves.length; i += Math.max(1, Math.floor(moves.length / 40))) {
    picks.add(moves[i]!.at);
    picks.add(moves[i]!.at - 1);
    picks.add(Math.floor(moves[i]!.at / DAY) * DAY + DAY - 1);
  }
  for (let i = 0; i < 20; i += 1) picks.add(start + Math.floor(((i * 7919) % 400) * DAY + i * 3_600_000));
  return [...picks].filter((at) => at >= start && at < now).sort((a, b) => a - b);
}

describe('Product.stockAt', () => {
  it('equals a replay of the ledger at every moment of 400 days', async () => {
    expect(moves.length).toBeGreaterThan(300);
    for (const at of moments()) {
      const iso = new Date(at).toISOString();
      const answer = await ask(STOCK_AT, { id: productId, at: iso });
      expect(answer.errors, iso).toBeUndefined();
      expect((answer.data?.product as { stockAt: unknown }).stockAt, iso).toEqual({ at: iso, ...replay(at) });
    }
  });

  it('answers for every product of a page in one go, and null before a product existed', async () => {
    const before = new Date(start - DAY).toISOString();
    const answer = await ask(
      `query ($at: DateTime!) { products(first: 50) { edges { node { sku createdAt stockAt(at: $at) { onHand } } } } }`,
      { at: before },
    );
    expect(answer.errors).toBeUndefined();
    const nodes = (answer.data?.products as { edges: { node: { sku: string; createdAt: string; stockAt: unknown } }[] })
      .edges;
    expect(nodes.length).toBeGreaterThan(10);
    for (const { node } of nodes)
      if (new Date(node.createdAt).getTime() > start - DAY) expect(node.stockAt, node.sku).toBeNull();
    // Now, for the demo products: their columns as they are.
    const current = await ask(
      `query ($at: DateTime!) { products(first: 20) { edges { node { sku onHand reserved stockAt(at: $at) { onHand reserved } } } } }`,
      { at: new Date().toISOString() },
    );
    for (const { node } of (current.data?.products as { edges: { node: Record<string, unknown> }[] }).edges)
      expect(node.stockAt, String(node.sku)).toEqual({ onHand: node.onHand, reserved: node.reserved });
  });

  it('refuses a moment in the future with BAD_USER_INPUT', async () => {
    const answer = await ask(STOCK_AT, { id: productId, at: new Date(Date.now() + 60_000).toISOString() });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'at' });
    const valuation = await ask('query ($at: DateTime!) { stockValuation(at: $at) { units } }', {
      at: '2999-01-01T00:00:00Z',
    });
    expect(valuation.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const garbage = await ask(STOCK_AT, { id: productId, at: 'yesterday' });
    expect(garbage.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('stays exact once old months are archived, and the rollups stay equal to the ledger', async () => {
    const db = handle.db;
    const oldest = (await monthlyPartitions(db, 'inventory', 'stock_movements')).filter(
      (p) => p.month.getTime() + 31 * DAY < start + 90 * DAY,
    );
    expect(oldest.length).toBeGreaterThan(0);
    await archiveMonth(db, [TABLE], oldest);
    for (const at of moments().filter((t) => t < start + 120 * DAY)) {
      const iso = new Date(at).toISOString();
      const answer = await ask(STOCK_AT, { id: productId, at: iso });
      expect((answer.data?.product as { stockAt: unknown }).stockAt, iso).toEqual({ at: iso, ...replay(at) });
    }
    const drift = rowsOf<{ aggregate: string; key: string }>(
      await db.execute(sql`select * from inventory.movement_counts_check() where aggregate = 'inventory.stock_daily'`),
    );
    expect(drift).toEqual([]);
    // Rebuilt from the ledger (live and archived), the daily sums come out the same.
    const before = rowsOf(await db.execute(sql`select * from inventory.stock_daily order by 1, 2, 3`));
    await db.execute(sql`select inventory.movement_counts_rebuild()`);
    expect(rowsOf(await db.execute(sql`select * from inventory.stock_daily order by 1, 2, 3`))).toEqual(before);
  });
});

describe('Query.stockValuation', () => {
  const VALUATION = `query ($at: DateTime!, $category: String) {
    stockValuation(at: $at, category: $category) { category products units value unvaluedUnits }
  }`;

  it("values a category's units at each moment's cost price, equal to a replay of the ledger", async () => {
    // Moments from both ends of the history and both sides of the archived months: the valuation reads
    // on-hand movements only (inventory.on_hand_at), which must come to the replay's on-hand units.
    for (const at of [start + 100 * DAY, start + 300 * DAY, ...moments().filter((_, i) => i % 4 === 0)]) {
      const answer = await ask(VALUATION, { at: new Date(at).toISOString(), category: 'History' });
      expect(answer.errors).toBeUndefined();
      const units = replay(at).onHand;
      const cost = at < COSTS[1]!.at ? 400 : 550;
      expect(answer.data?.stockValuation).toEqual([
        { category: 'History', products: 1, units, value: ((units * cost) / 100).toFixed(2), unvaluedUnits: 0 },
      ]);
    }
  });

  it('lists every category at once, and none before any product existed', async () => {
    const all = await ask(VALUATION, { at: new Date().toISOString() });
    const categories = (all.data?.stockValuation as { category: string | null; units: number }[]).map(
      (c) => c.category,
    );
    expect(categories).toContain('History');
    expect(categories.length).toBeGreaterThan(2);
    const empty = await ask(VALUATION, { at: new Date(start - 100 * DAY).toISOString(), category: 'History' });
    expect(empty.data?.stockValuation).toEqual([]);
  });

  it('is for managers: cost data', async () => {
    const answer = await ask(VALUATION, { at: new Date().toISOString() }, 'VIEWER');
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(answer.data?.stockValuation).toBeUndefined();
  });
});

describe('Product.movements over a period', () => {
  it('pages the ledger of a period newest first, with the period counted', async () => {
    // Months after the archived ones: the list reads the live ledger.
    const since = start + 200 * DAY;
    const until = start + 230 * DAY;
    const expected = moves.filter((m) => m.at >= since && m.at < until);
    expect(expected.length).toBeGreaterThan(10);
    const seen: { delta: number; createdAt: string }[] = [];
    let after: string | null = null;
    let totalCount: number | undefined;
    do {
      const answer = await ask(
        `query ($id: ID!, $since: DateTime, $until: DateTime, $after: String) { product(id: $id) {
          movements(first: 7, after: $after, since: $since, until: $until) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { delta createdAt } } } } }`,
        { id: productId, since: new Date(since).toISOString(), until: new Date(until).toISOString(), after },
      );
      expect(answer.errors).toBeUndefined();
      const page = (
        answer.data?.product as {
          movements: {
            totalCount: number;
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
            edges: { node: { delta: number; createdAt: string } }[];
          };
        }
      ).movements;
      totalCount = page.totalCount;
      seen.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(totalCount).toBe(expected.length);
    expect(seen.map((m) => new Date(m.createdAt).getTime())).toEqual(expected.map((m) => m.at).reverse());
  });

  it('refuses a period that ends before it starts', async () => {
    const answer = await ask(
      `query ($id: ID!) { product(id: $id) { movements(since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z") { totalCount } } }`,
      { id: productId },
    );
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'since' });
  });
});
