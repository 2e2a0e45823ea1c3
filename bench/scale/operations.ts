import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '@stockgraph/testkit';
import { Kind, parse, print, visit, type DefinitionNode } from 'graphql';
import type { Picks } from './generate.js';

/** p95 budgets from issue 15, in ms. */
export const BUDGET = { page: 50, stats: 100, totals: 50 } as const;

export interface Operation {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  budget: keyof typeof BUDGET;
  /** For a document holding several operations. */
  operationName?: string;
  /** Served by inventory's catalogue: timed again with the Redis catalogue cache on. */
  catalogue?: boolean;
}

/**
 * The queries of schema/operations/*.graphql by name, each printed with just the fragments it spreads
 * (GraphQL validation refuses unused ones). Mutations (sign-in, place-order) are not timed.
 */
function documents(): Map<string, string> {
  const dir = path.join(ROOT, 'schema/operations');
  const definitions = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .flatMap((f) => parse(readFileSync(path.join(dir, f), 'utf8')).definitions);
  const fragments = new Map(
    definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d] as const),
  );
  const byName = new Map<string, string>();
  for (const d of definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || d.operation !== 'query' || !d.name) continue;
    const used = new Set<string>();
    const collect = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          if (used.has(spread.name.value)) return;
          used.add(spread.name.value);
          collect(fragments.get(spread.name.value)!);
        },
      });
    collect(d);
    byName.set(d.name.value, [d, ...[...used].map((n) => fragments.get(n)!)].map((n) => print(n)).join('\n'));
  }
  return byName;
}

const ORDER_FIELDS = 'id number status total createdAt';

/**
 * Every query of schema/operations with variables that hit the generated data where it is heavy (the
 * top customer, the best-selling product, an order from the first month), plus the issue's table.
 * `deepCursor` is a cursor half-way through history, taken from the API itself.
 */
export function operations(picks: Picks, deepCursor: string, now = new Date()): Operation[] {
  const docs = documents();
  const doc = (name: string) => {
    const text = docs.get(name);
    if (!text) throw new Error(`schema/operations has no query ${name}`);
    return text;
  };
  const ago = (months: number, days = 0) => {
    const d = new Date(now);
    d.setUTCMonth(d.getUTCMonth() - months);
    d.setUTCDate(d.getUTCDate() - days);
    return d.toISOString();
  };
  const to = now.toISOString();
  const named = (
    name: string,
    label: string,
    variables: Record<string, unknown>,
    budget: Operation['budget'] = 'page',
  ) => ({
    name: `${name} ${label}`.trim(),
    query: doc(name),
    variables,
    budget,
    operationName: name,
  });
  const issue = (
    name: string,
    query: string,
    variables: Record<string, unknown> = {},
    budget: Operation['budget'] = 'page',
  ) => ({
    name,
    query,
    variables,
    budget,
  });
  const list: Operation[] = [
    named('Me', '', {}),
    named('CustomerByPhone', '(heavy customer)', { phone: picks.heavyCustomerPhone }, 'totals'),
    named('CustomerOrders', '(heavy customer)', { customerId: picks.heavyCustomerId }),
    named('CustomerOrders', '(heavy, CANCELLED)', { customerId: picks.heavyCustomerId, status: 'CANCELLED' }),
    named('CustomerOrders', '(typical customer)', { customerId: picks.typicalCustomerId }),
    named('OrderDetail', '(first-month order)', { id: picks.oldOrderId }),
    named('OrderHistory', '', {}),
    named('OrderHistory', '(heavy customer)', { filter: { customerId: picks.heavyCustomerId } }),
    named('OrderHistory', '(PENDING)', { filter: { status: 'PENDING' } }),
    named('OrderHistory', '(one month ago)', { filter: { createdFrom: ago(2), createdTo: ago(1) } }),
    named('Dashboard', '(30 days)', { from: ago(0, 30), to }, 'stats'),
    { ...named('ProductCatalogue', '', {}), catalogue: true },
    { ...named('ProductCatalogue', '(category)', { filter: { category: picks.popularCategory } }), catalogue: true },
    { ...named('ProductCatalogue', '(search)', { filter: { search: 'pro' } }), catalogue: true },
    { ...named('ProductDetail', '(best seller)', { id: picks.popularProductId }), catalogue: true },
    { ...named('StockBySku', '(best seller)', { sku: picks.popularProductSku }), catalogue: true },
    // Stock as of a moment (issue 30): the best seller's ledger is the longest; budget 50 ms p95 for any moment.
    named('StockAt', '(best seller, yesterday)', { id: picks.popularProductId, at: ago(0, 1) }),
    named('StockAt', '(best seller, 23 months ago)', { id: picks.popularProductId, at: ago(23, 3) }),
    named('StockAt', '(best seller, a month of ledger)', {
      id: picks.popularProductId,
      at: ago(12),
      since: ago(13),
      until: ago(12),
    }),
    named('StockValuation', '(every category, 23 months ago)', { at: ago(23, 3) }),
    named('StockValuation', '(every category, yesterday)', { at: ago(0, 1) }),
    named('StockValuation', '(popular category, 12 months ago)', { at: ago(12), category: picks.popularCategory }),
    issue('orders(first: 20)', `{ orders(first: 20) { edges { cursor node { ${ORDER_FIELDS} } } } }`),
    issue(
      'orders(first: 20, after: deep cursor)',
      `query ($after: String) { orders(first: 20, after: $after) { edges { cursor node { ${ORDER_FIELDS} } } } }`,
      { after: deepCursor },
    ),
    issue('orders(first: 20) { totalCount }', `{ orders(first: 20) { totalCount edges { node { id } } } }`),
    ...(
      [
        ['one month, DAY', ago(1), 'DAY'],
        ['twelve months, MONTH', ago(12), 'MONTH'],
        ['two years, DAY', ago(24), 'DAY'],
      ] as const
    ).map(([label, from, interval]) =>
      issue(
        `orderStats (${label})`,
        'query ($from: DateTime!, $to: DateTime!, $interval: StatsInterval) { orderStats(from: $from, to: $to, interval: $interval) { start orderCount revenue } }',
        { from, to, interval },
        'stats',
      ),
    ),
    issue(
      'customers(first: 5) { orders(first: 5) }',
      `{ customers(first: 5) { edges { node { id name orders(first: 5) { edges { node { ${ORDER_FIELDS} } } } } } } }`,
    ),
    issue(
      'customers(first: 20) { orderCount lifetimeValue }',
      '{ customers(first: 20) { edges { node { id name orderCount lifetimeValue } } } }',
      {},
      'totals',
    ),
  ];
  return list;
}

/** A cursor half-way through history: the first order at or before the generated middle order's time. */
export const DEEP_CURSOR_QUERY =
  'query ($to: DateTime!) { orders(first: 1, filter: { createdTo: $to }) { edges { cursor } } }';
