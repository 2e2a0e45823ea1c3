import { partitionName, rowsOf } from '@stockgraph/db';
import { generateDemoData } from '@stockgraph/demo-data';
import { newId } from '@stockgraph/ids';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { startInventory } from './app.js';
import { stockMovements } from './db/schema.js';

const demo = generateDemoData();
const service = useSubgraph('inventory', startInventory);
/** Calls the subgraph with a manager's token (this file tests data, not rules). */
const call = async (query: string, variables: Record<string, unknown> = {}) =>
  graphql(service.current.url, query, variables, await service.as('MANAGER'));

describe('inventory subgraph', () => {
  it('resolves Product entities by both keys, id and sku', async () => {
    const [a, b] = demo.products;
    const result = await call(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id sku name unitPrice } } }`,
      {
        r: [
          { __typename: 'Product', id: a!.id },
          { __typename: 'Product', sku: b!.sku },
          { __typename: 'Product', sku: 'NO-SUCH-SKU' },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([
      { id: a!.id, sku: a!.sku, name: a!.name, unitPrice: a!.unitPrice },
      { id: b!.id, sku: b!.sku, name: b!.name, unitPrice: b!.unitPrice },
      null,
    ]);
  });

  it('keeps stock columns equal to the ledger sums for every product', async () => {
    const result = await service.current.db.execute(sql`
      select p.sku, p.on_hand, p.reserved,
        coalesce(sum(m.delta) filter (where m.reason in ('RECEIPT','SALE','ADJUSTMENT','RETURN')), 0)::int as ledger_on_hand,
        coalesce(sum(m.delta) filter (where m.reason in ('RESERVATION','RELEASE')), 0)::int as ledger_reserved
      from inventory.products p left join inventory.stock_movements m on m.product_id = p.id
      group by p.id`);
    const rows = rowsOf<{
      sku: string;
      on_hand: number;
      reserved: number;
      ledger_on_hand: number;
      ledger_reserved: number;
    }>(result);
    expect(rows.length).toBe(demo.products.length);
    for (const row of rows) {
      expect([row.on_hand, row.reserved], row.sku).toEqual([row.ledger_on_hand, row.ledger_reserved]);
    }
  });

  it('filters low-stock products and pages them by SKU', async () => {
    const result = await call(
      `{ products(filter: { lowStock: true }, first: 100) { totalCount edges { node { sku available reorderLevel lowStock } } } }`,
    );
    type Node = { sku: string; available: number; reorderLevel: number; lowStock: boolean };
    const nodes: Node[] = result.data.products.edges.map((e: { node: Node }) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    expect(result.data.products.totalCount).toBe(nodes.length);
    for (const node of nodes) expect(node.available <= node.reorderLevel && node.lowStock).toBe(true);
    expect(nodes.map((n) => n.sku)).toEqual([...nodes.map((n) => n.sku)].sort());
  });

  it('pages a product ledger newest first with price history', async () => {
    const product = demo.products[0]!;
    const first = await call(
      `query ($id: ID!) { product(id: $id) { priceHistory { unitPrice } movements(first: 2) { totalCount edges { node { id createdAt reason } } pageInfo { hasNextPage endCursor } } } }`,
      { id: product.id },
    );
    expect(first.errors).toBeUndefined();
    expect(first.data.product.priceHistory).toEqual([{ unitPrice: product.unitPrice }]);
    const moves = first.data.product.movements;
    expect(moves.edges).toHaveLength(2);
    const next = await call(
      `query ($id: ID!, $after: String) { product(id: $id) { movements(first: 100, after: $after) { edges { node { id createdAt } } } } }`,
      { id: product.id, after: moves.pageInfo.endCursor },
    );
    const all = [...moves.edges, ...next.data.product.movements.edges].map((e) => e.node);
    expect(new Set(all.map((m) => m.id)).size).toBe(all.length);
    const times = all.map((m) => Date.parse(m.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('routes ledger rows to their month partition, DEFAULT only outside the created range', async () => {
    const product = demo.products[0]!;
    const now = new Date();
    const far = new Date(Date.UTC(now.getUTCFullYear() + 5, 0, 15));
    const rows = [now, far].map((at) => ({
      id: newId(at),
      createdAt: at,
      productId: product.id,
      delta: 0,
      reason: 'ADJUSTMENT' as const,
      note: 'partition probe',
    }));
    await service.current.db.insert(stockMovements).values(rows);
    const placed = rowsOf<{ id: string; partition: string }>(
      await service.current.db.execute(
        sql`select id, tableoid::regclass::text as partition from inventory.stock_movements where note = 'partition probe'`,
      ),
    );
    const byId = new Map(placed.map((p) => [p.id, p.partition]));
    expect(byId.get(rows[0]!.id)).toBe(`inventory.${partitionName('stock_movements', now)}`);
    expect(byId.get(rows[1]!.id)).toBe('inventory.stock_movements_default');
    // Seeded history sits in monthly partitions, none of it in DEFAULT.
    const inDefault = rowsOf<{ n: number }>(
      await service.current.db.execute(
        sql`select count(*)::int as n from inventory.stock_movements_default where note is distinct from 'partition probe'`,
      ),
    );
    expect(inDefault[0]!.n).toBe(0);
  });

  it('creates partitions ahead of time at start', async () => {
    const ahead = new Date();
    ahead.setUTCMonth(ahead.getUTCMonth() + 3, 1);
    const result = rowsOf<{ n: number }>(
      await service.current.db.execute(
        sql`select count(*)::int as n from pg_class where relname = ${partitionName('stock_movements', ahead)}`,
      ),
    );
    expect(result[0]!.n).toBe(1);
  });
});
