import { createHash } from 'node:crypto';
import type { DemoData } from '@stockgraph/demo-data';

type Target = 'stockgraph' | 'cached' | 'baseline' | 'apollo' | 'hive' | 'hive-rust' | 'floor';
type Body = { errors?: { extensions?: { code?: string } }[]; data?: unknown };

export interface Scenario {
  role: 'manager' | 'viewer';
  targets: readonly Target[];
  /** A fresh request body, with variables drawn at random so no answer can be a repeat. */
  body(demo: DemoData): Record<string, unknown>;
  /** Refuses a probe answer that shows the target is not doing this scenario's work. */
  check(status: number, body: Body, target: Target): void;
  /** Its answers are errors by design (the denied scenario). */
  non2xxExpected?: boolean;
  /**
   * Many users: each request signs in as one of a pool of viewers instead of the scenario's one role,
   * and stock changes arrive meanwhile, each checked for a stale answer (the read mix).
   */
  crowd?: boolean;
}

const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
const GATEWAYS = ['stockgraph', 'baseline', 'apollo', 'hive', 'hive-rust'] as const;

function answered(status: number, body: Body, target: Target): void {
  if (status !== 200 || body.errors || !body.data)
    throw new Error(`${target} did not answer: ${status} ${JSON.stringify(body).slice(0, 500)}`);
}

const STOCK_BY_SKU =
  'query StockBySku($sku: String!) { productBySku(sku: $sku) { available id lowStock name onHand reorderLevel reserved sku updatedAt } }';
const STOCK_BY_SKU_HASH = createHash('sha256').update(STOCK_BY_SKU).digest('hex');

/** The products most screens look at: stock by SKU and the stock checks after a change draw from them. */
export const HOT_PRODUCTS = 100;
export const STOCK_BY_SKU_QUERY =
  'query Stock($sku: String!) { productBySku(sku: $sku) { id sku name onHand reserved available } }';

export const SCENARIOS: Record<string, Scenario> = {
  /** Ten-ish products from one subgraph: what the gateway itself costs. */
  trivial: {
    role: 'manager',
    targets: [...GATEWAYS, 'floor'],
    body: () => ({
      query: 'query ($first: Int!) { products(first: $first) { edges { node { id sku name unitPrice available } } } }',
      variables: { first: between(5, 15) },
    }),
    check: answered,
  },
  /** 45–50 orders with their customer and every item's product: three subgraphs, two entity fetches. */
  fanout: {
    role: 'manager',
    targets: GATEWAYS,
    body: () => ({
      query:
        'query ($first: Int!) { orders(first: $first) { edges { node { id number total ' +
        'customer { id name } items { quantity product { id sku name } } } } } }',
      variables: { first: between(45, 50) },
    }),
    check: answered,
  },
  /** A shipped operation sent by hash alone (the committed manifest; APQ for stock @apollo/gateway). */
  persisted: {
    role: 'manager',
    targets: GATEWAYS,
    body: (demo) => ({
      variables: { sku: pick(demo.products).sku },
      extensions: { persistedQuery: { version: 1, sha256Hash: STOCK_BY_SKU_HASH } },
    }),
    check: answered,
  },
  /** A viewer asking for cost prices: refused. The Stockgraph gateway refuses before planning; the
   * others forward it and the subgraph's shield refuses the field. */
  denied: {
    role: 'viewer',
    targets: [...GATEWAYS, 'floor'],
    body: (demo) => ({
      query: 'query ($id: ID!) { product(id: $id) { id name costPrice } }',
      variables: { id: pick(demo.products).id },
    }),
    check: (status, body, target) => {
      const codes = body.errors?.map((e) => e.extensions?.code) ?? [];
      // Refused for the field, not for something else (a missing subgraph credential is FORBIDDEN too).
      if (!codes.includes('FORBIDDEN') || !JSON.stringify(body.errors).includes('costPrice'))
        throw new Error(`${target} did not deny: ${status} ${JSON.stringify(body)}`);
    },
    non2xxExpected: true,
  },
};

/**
 * What web and mobile clients read most, from many users while stock changes arrive (a crowd scenario):
 * catalogue pages by category (55%), stock by SKU of the hundred busiest products (30%), and the user's
 * order history with each line's product (15%). Repeats are the point: many screens ask the same thing.
 */
SCENARIOS.readmix = {
  role: 'viewer',
  targets: ['stockgraph', 'cached', 'apollo', 'hive', 'hive-rust'],
  crowd: true,
  body: (demo) => {
    const dice = Math.random();
    if (dice < 0.55) {
      const categories = [...new Set(demo.products.map((p) => p.category))];
      return {
        query:
          'query Catalogue($category: String, $first: Int!) { products(first: $first, filter: { category: $category }) ' +
          '{ totalCount edges { node { id sku name unitPrice available } } } }',
        variables: { category: pick(categories), first: pick([10, 20]) },
      };
    }
    if (dice < 0.85)
      return { query: STOCK_BY_SKU_QUERY, variables: { sku: pick(demo.products.slice(0, HOT_PRODUCTS)).sku } };
    return {
      query:
        'query History($first: Int!) { orders(first: $first) { edges { node { id number status total createdAt ' +
        'items { quantity product { id name } } } } } }',
      variables: { first: 10 },
    };
  },
  check: answered,
};

/** Registers the persisted scenario's document where the target learns documents by APQ. */
export const APQ_REGISTRATION = {
  query: STOCK_BY_SKU,
  extensions: { persistedQuery: { version: 1, sha256Hash: STOCK_BY_SKU_HASH } },
};
