import { Presets, SingleBar } from 'cli-progress';
import { DEMO_PASSWORD, generateDemoData } from '@stockgraph/demo-data';
import { hashPassword } from '@stockgraph/users';
import { copyRows, money, NULL, openCopy, type LoadStat } from './copy.js';
import { seeded, weighted, zipf } from './skew.js';
import { uuid7Factory } from './uuid7.js';

export interface ScaleOptions {
  orders: number;
  customers: number;
  products: number;
  months: number;
  seed: number;
}

/** Ids and ranges the timed operations use, stored in the database so `--reuse` finds them again. */
export interface Picks {
  managerEmail: string;
  heavyCustomerId: string;
  heavyCustomerPhone: string;
  typicalCustomerId: string;
  popularProductId: string;
  popularProductSku: string;
  popularCategory: string;
  oldOrderId: string;
  deepOrderId: string;
  from: string;
  to: string;
}

const DAY = 86_400_000;
const CATEGORIES = ['Electronics', 'Office', 'Kitchen', 'Tools', 'Garden', 'Sports', 'Toys', 'Books'];
const NOUNS = ['Cable', 'Lamp', 'Kettle', 'Drill', 'Hose', 'Mat', 'Pen', 'Bowl', 'Mouse', 'Bottle', 'Knife', 'Tray'];
const ADJECTIVES = ['Basic', 'Pro', 'Plus', 'Mini', 'XL', 'Eco', 'Steel', 'Travel', 'Classic', 'Smart'];
const FIRST = ['Li', 'Wang', 'Anna', 'Ben', 'Chloe', 'David', 'Emma', 'Felix', 'Grace', 'Hugo', 'Iris', 'Jon'];
const LAST = ['Wei', 'Fang', 'Schmidt', 'Garcia', 'Okafor', 'Silva', 'Novak', 'Tanaka', 'Haddad', 'Berg'];
/** Orders per chunk handed to COPY: large enough to amortise the writes, small enough to stream. */
const CHUNK = 5000;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Orders over `months` months up to now with linear growth (the last month has about three times the
 * first's orders), customers and products drawn with Zipf skew, statuses by age. Orders and their
 * items stream into two concurrent COPYs; inventory's ledger is summarised per product and month
 * (a sale and a restock) plus one reservation per line of every still-open order, so on_hand and
 * reserved equal the ledger's sums as the stock check expects.
 */
export async function generate(url: string, options: ScaleOptions, now = Date.now()) {
  const random = seeded(options.seed);
  const uuid7 = uuid7Factory();
  const from = Date.UTC(
    new Date(now).getUTCFullYear(),
    new Date(now).getUTCMonth() - options.months,
    new Date(now).getUTCDate(),
  );
  const catalogueAt = from - 30 * DAY;
  const stats: LoadStat[] = [];

  // Users: the demo ones (one per role, the demo password), so the manager can sign in.
  const demo = generateDemoData({ days: 1 });
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  stats.push(
    await copyRows(
      url,
      'users.users',
      ['id', 'email', 'name', 'role', 'active', 'password_hash', 'created_at', 'updated_at'],
      demo.users.map((u) =>
        [u.id, u.email, u.name, u.role, 't', passwordHash, iso(catalogueAt), iso(catalogueAt)].join('\t'),
      ),
    ),
  );
  const staffIds = demo.users.filter((u) => u.role === 'STAFF' || u.role === 'MANAGER').map((u) => u.id);
  const manager = demo.users.find((u) => u.role === 'MANAGER')!;

  // Customers: rank 0 is the heaviest buyer.
  const customers = Array.from({ length: options.customers }, (_, i) => {
    const createdAt = catalogueAt + i * 60_000;
    const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i + 1}`;
    return {
      id: uuid7(createdAt),
      createdAt,
      name,
      phone: `+4930${String(1_000_000 + i)}`,
      tier: i < 10 ? 'PLATINUM' : i < 40 ? 'GOLD' : i < 120 ? 'SILVER' : 'STANDARD',
    };
  });
  stats.push(
    await copyRows(
      url,
      'customers.customers',
      ['id', 'name', 'phone', 'email', 'address', 'tier', 'notes', 'created_at', 'updated_at'],
      customers.map((c, i) =>
        [
          c.id,
          c.name,
          c.phone,
          `customer${i + 1}@example.com`,
          `${i + 1} Market St`,
          c.tier,
          NULL,
          iso(c.createdAt),
          iso(c.createdAt),
        ].join('\t'),
      ),
    ),
  );
  stats.push(
    await copyRows(
      url,
      'orders.known_customers',
      ['customer_id', 'created_at'],
      customers.map((c) => `${c.id}\t${iso(c.createdAt)}`),
    ),
  );

  // Products: rank 0 sells most; prices from about 2 to 500.
  const products = Array.from({ length: options.products }, (_, i) => {
    const createdAt = catalogueAt + i * 1000;
    const costCents = Math.round(150 * Math.exp(random() * 5));
    return {
      id: uuid7(createdAt),
      createdAt,
      sku: `SKU-${String(i + 1).padStart(6, '0')}`,
      name: `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]} ${i + 1}`,
      category: CATEGORIES[i % CATEGORIES.length]!,
      costCents,
      priceCents: Math.round(costCents * (1.3 + random() * 0.9)),
      reorderLevel: 5 + Math.floor(random() * 36),
    };
  });

  // Orders and items.
  const customerDraw = zipf(customers.length, 1, random);
  const productDraw = zipf(products.length, 1.05, random);
  const lineCount = weighted(
    [
      [1, 35],
      [2, 30],
      [3, 18],
      [4, 10],
      [5, 7],
    ],
    random,
  );
  const quantity = weighted(
    [
      [1, 60],
      [2, 25],
      [3, 8],
      [4, 4],
      [5, 3],
    ],
    random,
  );
  const span = now - from;
  const growth = 2;
  // Inverse CDF of a density rising linearly from 1 to 1 + growth over the span.
  const timeAt = (y: number) => from + (span * (-1 + Math.sqrt(1 + 2 * growth * y * (1 + growth / 2)))) / growth;
  const monthIndex = (ms: number) => {
    const d = new Date(ms);
    const f = new Date(from);
    return (d.getUTCFullYear() - f.getUTCFullYear()) * 12 + d.getUTCMonth() - f.getUTCMonth();
  };
  const months = monthIndex(now) + 1;
  const soldByMonth = new Int32Array(products.length * months);
  const reservedUnits = new Int32Array(products.length);
  const open: { id: string; createdAt: number; items: [number, number][] }[] = [];
  const orderColumns = [
    'id',
    'created_at',
    'number',
    'customer_id',
    'status',
    'total',
    'created_by',
    'updated_at',
    'rejection',
  ];
  const itemColumns = ['order_id', 'created_at', 'product_id', 'quantity', 'unit_price', 'line_total'];
  const ordersCopy = await openCopy(url, 'orders.orders', orderColumns);
  const itemsCopy = await openCopy(url, 'orders.order_items', itemColumns);
  const bar = new SingleBar(
    {
      format: 'orders {bar} {percentage}% {value}/{total} | {rate} orders/s | {items} items | eta {eta_formatted}',
      // Logged to a file or CI: a line every 15 s instead of nothing.
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 15_000,
    },
    Presets.shades_classic,
  );
  bar.start(options.orders, 0, { rate: 0, items: 0 });
  const loadStarted = performance.now();
  let items = 0;
  let oldOrderId = '';
  let deepOrderId = '';
  const chosen = new Int32Array(5);
  try {
    for (let start = 0; start < options.orders; start += CHUNK) {
      const orderLines: string[] = [];
      const itemLines: string[] = [];
      const end = Math.min(options.orders, start + CHUNK);
      for (let k = start; k < end; k++) {
        const createdAt = Math.floor(timeAt((k + random()) / options.orders));
        const id = uuid7(createdAt);
        if (k === Math.floor(options.orders / 100)) oldOrderId = id;
        if (k === Math.floor(options.orders / 2)) deepOrderId = id;
        const age = now - createdAt;
        const roll = random();
        const status =
          age > 7 * DAY
            ? roll < 0.9
              ? 'FULFILLED'
              : roll < 0.96
                ? 'CANCELLED'
                : 'REJECTED'
            : age > 2 * DAY
              ? roll < 0.55
                ? 'FULFILLED'
                : roll < 0.9
                  ? 'CONFIRMED'
                  : roll < 0.96
                    ? 'CANCELLED'
                    : 'REJECTED'
              : age < 10 * 60_000 && roll < 0.15
                ? 'PENDING'
                : roll < 0.8
                  ? 'CONFIRMED'
                  : roll < 0.9
                    ? 'FULFILLED'
                    : roll < 0.96
                      ? 'CANCELLED'
                      : 'REJECTED';
        const n = lineCount();
        let lines = 0;
        for (let tries = 0; lines < n && tries < 20; tries++) {
          const p = productDraw.draw();
          if (!chosen.subarray(0, lines).includes(p)) chosen[lines++] = p;
        }
        const at = iso(createdAt);
        let total = 0;
        const month = monthIndex(createdAt);
        const reserved: [number, number][] = [];
        for (let l = 0; l < lines; l++) {
          const product = products[chosen[l]!]!;
          const q = quantity();
          const line = product.priceCents * q;
          total += line;
          itemLines.push(`${id}\t${at}\t${product.id}\t${q}\t${money(product.priceCents)}\t${money(line)}`);
          if (status === 'FULFILLED') soldByMonth[chosen[l]! * months + month]! += q;
          if (status === 'CONFIRMED') {
            reservedUnits[chosen[l]!]! += q;
            reserved.push([chosen[l]!, q]);
          }
        }
        items += lines;
        if (status === 'CONFIRMED') open.push({ id, createdAt, items: reserved });
        const updatedAt =
          status === 'PENDING' || status === 'CONFIRMED'
            ? createdAt
            : Math.min(now, createdAt + 3_600_000 + Math.floor(random() * 3 * DAY));
        const rejection =
          status === 'REJECTED'
            ? JSON.stringify({
                code: 'INSUFFICIENT_STOCK',
                products: [{ productId: products[chosen[0]!]!.id, requested: 1, available: 0 }],
              })
            : NULL;
        orderLines.push(
          `${id}\t${at}\tSG-${String(k + 1).padStart(7, '0')}\t${customers[customerDraw.draw()]!.id}\t${status}\t` +
            `${money(total)}\t${staffIds[k % staffIds.length]}\t${iso(updatedAt)}\t${rejection}`,
        );
      }
      await Promise.all([ordersCopy.write(orderLines), itemsCopy.write(itemLines)]);
      const seconds = (performance.now() - loadStarted) / 1000;
      bar.update(end, { rate: Math.round(end / seconds), items });
    }
    bar.stop();
    stats.push(...(await Promise.all([ordersCopy.end(), itemsCopy.end()])));
  } catch (error) {
    bar.stop();
    await Promise.all([ordersCopy.abort(), itemsCopy.abort()]);
    throw error;
  }

  // Inventory: stock levels that agree with the ledger below.
  const onHand = products.map((p, i) => {
    const available =
      random() < 0.15 ? Math.floor(random() * (p.reorderLevel + 1)) : p.reorderLevel + 20 + Math.floor(random() * 500);
    return reservedUnits[i]! + available;
  });
  stats.push(
    await copyRows(
      url,
      'inventory.products',
      [
        'id',
        'sku',
        'name',
        'description',
        'category',
        'unit_price',
        'cost_price',
        'on_hand',
        'reserved',
        'reorder_level',
        'created_at',
        'updated_at',
      ],
      products.map((p, i) =>
        [
          p.id,
          p.sku,
          p.name,
          `The ${p.name.toLowerCase()}.`,
          p.category,
          money(p.priceCents),
          money(p.costCents),
          onHand[i],
          reservedUnits[i],
          p.reorderLevel,
          iso(p.createdAt),
          iso(p.createdAt),
        ].join('\t'),
      ),
    ),
  );
  stats.push(
    await copyRows(
      url,
      'inventory.price_history',
      ['id', 'product_id', 'unit_price', 'cost_price', 'changed_at', 'changed_by'],
      products.map((p) =>
        [uuid7(p.createdAt), p.id, money(p.priceCents), money(p.costCents), iso(p.createdAt), manager.id].join('\t'),
      ),
    ),
  );
  stats.push(
    await copyRows(
      url,
      'orders.product_prices',
      ['product_id', 'unit_price', 'updated_at'],
      products.map((p) => `${p.id}\t${money(p.priceCents)}\t${iso(p.createdAt)}`),
    ),
  );
  const movements: string[] = [];
  const move = (at: number, product: number, delta: number, reason: string, orderId: string, note: string) =>
    movements.push(
      [uuid7(at), iso(at), products[product]!.id, delta, reason, orderId || NULL, note || NULL, manager.id].join('\t'),
    );
  products.forEach((p, i) => {
    move(p.createdAt, i, onHand[i]!, 'RECEIPT', '', 'Opening stock');
    for (let m = 0; m < months; m++) {
      const sold = soldByMonth[i * months + m]!;
      if (sold === 0) continue;
      const f = new Date(from);
      const monthEnd = Math.min(now - 1000, Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + m + 1, 1) - 1000);
      // Each month's fulfilled orders as one sale, restocked by one receipt: the ledger's sum stays on_hand.
      move(monthEnd, i, -sold, 'SALE', '', 'Fulfilled orders of the month');
      move(monthEnd + 1, i, sold, 'RECEIPT', '', 'Restock');
    }
  });
  for (const order of open)
    for (const [product, q] of order.items) move(order.createdAt, product, q, 'RESERVATION', order.id, '');
  stats.push(
    await copyRows(
      url,
      'inventory.stock_movements',
      ['id', 'created_at', 'product_id', 'delta', 'reason', 'order_id', 'note', 'actor_id'],
      movements,
    ),
  );
  // The saga's state for the orders still open, so cancelling or fulfilling one releases or sells its stock.
  stats.push(
    await copyRows(
      url,
      'inventory.reservations',
      ['order_id', 'status', 'items', 'created_at', 'updated_at'],
      open.map((o) => {
        const json = JSON.stringify(o.items.map(([p, quantity]) => ({ productId: products[p]!.id, quantity })));
        return `${o.id}\tRESERVED\t${json}\t${iso(o.createdAt)}\t${iso(o.createdAt)}`;
      }),
    ),
  );

  const popular = products[0]!;
  const picks: Picks = {
    managerEmail: manager.email,
    heavyCustomerId: customers[0]!.id,
    heavyCustomerPhone: customers[0]!.phone,
    typicalCustomerId: customers[Math.min(customers.length - 1, 40)]!.id,
    popularProductId: popular.id,
    popularProductSku: popular.sku,
    popularCategory: popular.category,
    oldOrderId,
    deepOrderId,
    from: iso(from),
    to: iso(now),
  };
  return {
    picks,
    stats,
    items,
    heavyShare: customerDraw.share(0),
    loadSeconds: (performance.now() - loadStarted) / 1000,
  };
}
