/**
 * `stockgraph import make-legacy`: writes a legacy store (schema.sql, exactly) of any size from a
 * seed, so the importer can be tested and benchmarked on files shaped like the ones in the field.
 * With `dirty`, every quirk of the legacy README appears, each at least once: float money, two
 * timestamp formats plus empty and impossible dates, statuses in odd case and with spaces, unknown
 * statuses and roles, totals that disagree with their items, orders without items, items with
 * quantity 0 or below, items and orders pointing at deleted rows, two lines for one product in one
 * order (at different unit prices, or the same), duplicate SKUs (case and whitespace), negative stock, stock that disagrees with the log, log rows of deleted products,
 * phones and emails as typed by staff.
 * Every user's password is `pw-<username>`, so tests can sign in as an imported user.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRandom } from '@stockgraph/demo-data';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { openSqlite, transaction } from './sqlite.js';

export interface GeneratorOptions {
  orders: number;
  seed: number;
  dirty: boolean;
  /** Called after each table with the rows written so far. */
  onProgress?: (rows: number) => void;
}

export interface GeneratedCounts {
  users: number;
  products: number;
  customers: number;
  orders: number;
  order_items: number;
  inventory_log: number;
  total: number;
}

export const LEGACY_SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const END = Date.UTC(2026, 9, 31, 12, 0, 0);
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

function localText(ms: number, slash = false): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}${slash ? '/' : '-'}${pad(d.getUTCMonth() + 1)}${slash ? '/' : '-'}${pad(d.getUTCDate())}`;
  return slash
    ? `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
    : `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function legacyPasswordHash(password: string, salt = randomBytes(8).toString('hex')): string {
  return `sha256$${salt}$${createHash('sha256')
    .update(Buffer.concat([Buffer.from(salt, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('hex')}`;
}

const STATUSES = [
  'pending',
  'paid',
  'shipped',
  'completed',
  'completed',
  'completed',
  'cancelled',
  'refunded',
] as const;
const ROLES = ['admin', 'manager', 'clerk', 'clerk', 'clerk', 'readonly'] as const;
const CATEGORIES = ['Tools', 'Garden', 'Kitchen', 'Office', 'Toys', 'Sports', null] as const;

export function generateLegacyFile(file: string, options: GeneratorOptions): GeneratedCounts {
  if (existsSync(file)) rmSync(file);
  const r = createRandom(options.seed);
  const chance = (p: number) => r.next() < p;
  const dirty = options.dirty;
  const db = openSqlite(file);
  db.exec('pragma journal_mode = OFF; pragma synchronous = OFF');
  db.exec(LEGACY_SCHEMA_SQL);
  const n = Math.max(1, options.orders);
  const counts: GeneratedCounts = {
    users: 0,
    products: 0,
    customers: 0,
    orders: 0,
    order_items: 0,
    inventory_log: 0,
    total: 0,
  };
  const start = END - SPAN_MS;
  // Dirty quirks at small rates, and forced on the first rows so even a tiny file has each one.
  const odd = (rate: number, index: number, forcedAt: number) => dirty && (index === forcedAt || chance(rate));
  const timeText = (ms: number, index: number, forcedAt: number) => {
    if (odd(0.002, index, forcedAt)) return r.pick(['', '0000-00-00 00:00:00', '2023-02-30 10:00:00']);
    return localText(ms, odd(0.02, index, forcedAt + 1));
  };
  let written = 0;
  const progress = (rows: number) => {
    written += rows;
    options.onProgress?.(written);
  };

  // Users
  const userCount = Math.max(6, Math.min(300, Math.ceil(n / 2000)));
  const insertUser = db.prepare(
    'insert into users (id, username, email, password_hash, role, is_active, created_at) values (?, ?, ?, ?, ?, ?, ?)',
  );
  transaction(db, () => {
    for (let i = 1; i <= userCount; i++) {
      const username = i === 1 ? 'admin' : `user${i}`;
      let email: string | null = `${username}@shop.example`;
      if (i > 1 && odd(0.05, i, 2)) email = email.toUpperCase();
      if (i > 1 && odd(0.03, i, 3)) email = null;
      if (i > 2 && odd(0.03, i, 4)) email = `user${i - 1}@shop.example`;
      const role = i === 1 ? 'admin' : odd(0.03, i, 5) ? r.pick(['Manager ', 'superuser']) : r.pick(ROLES);
      insertUser.run(
        i,
        username,
        email,
        legacyPasswordHash(`pw-${username}`, `salt${i}`),
        role,
        chance(0.9) ? 1 : 0,
        localText(start - 86_400_000 * (userCount - i)),
      );
    }
  });
  counts.users = userCount;
  progress(userCount);

  // Products
  const productCount = Math.max(20, Math.min(5000, Math.ceil(n / 60)));
  const insertProduct = db.prepare(
    'insert into products (id, sku, name, category, description, price, cost, stock, reorder_level, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const prices: number[] = [0];
  transaction(db, () => {
    for (let i = 1; i <= productCount; i++) {
      let sku = `SKU-${pad(i, 5)}`;
      if (odd(0.01, i, 7)) sku = `SKU-${pad(i - 1, 5)}`;
      else if (odd(0.01, i, 8)) sku = `sku-${pad(i - 2, 5)}`;
      else if (odd(0.01, i, 9)) sku = ` SKU-${pad(i - 3, 5)} `;
      // Prices such as 19.9 or 2.675 are not exact binary fractions: the float quirk comes for free.
      const price = r.pick([19.9, 2.675, 0.1, 1.005]) + r.int(0, 200);
      prices.push(price);
      const created = start - 86_400_000 * r.int(1, 300);
      insertProduct.run(
        i,
        sku,
        `Product ${i}`,
        r.pick(CATEGORIES),
        chance(0.5) ? `About product ${i}` : null,
        price,
        chance(0.8) ? Math.round(price * 0.6 * 1000) / 1000 : null,
        0,
        chance(0.9) ? r.int(0, 20) : null,
        timeText(created, i, 11),
        chance(0.7) ? localText(created + 86_400_000) : null,
      );
    }
  });
  counts.products = productCount;
  progress(productCount);

  // Customers
  const customerCount = Math.max(10, Math.min(200_000, Math.ceil(n / 5)));
  const insertCustomer = db.prepare(
    'insert into customers (id, name, phone, email, address, created_at) values (?, ?, ?, ?, ?, ?)',
  );
  const phoneShapes = [
    (d: string) => `${d.slice(0, 3)} ${d.slice(3, 7)} ${d.slice(7)}`,
    (d: string) => `+86-${d.slice(0, 3)}-${d.slice(3, 7)}-${d.slice(7)}`,
    (d: string) => d,
  ];
  transaction(db, () => {
    for (let i = 1; i <= customerCount; i++) {
      const digits = `13${pad(r.int(0, 999_999_999), 9)}`;
      let phone: string | null = r.pick(phoneShapes)(digits);
      if (odd(0.02, i, 2)) phone = '';
      if (odd(0.02, i, 3)) phone = null;
      if (odd(0.01, i, 4)) phone = r.pick(['n/a', '12', 'call the shop']);
      if (odd(0.01, i, 5) && i > 1) phone = `13${pad(i - 1, 9)}`;
      const email = odd(0.05, i, 6) ? '' : chance(0.6) ? `Customer${i}@Mail.example` : null;
      insertCustomer.run(
        i,
        `Customer ${i}`,
        phone,
        email,
        chance(0.5) ? `${i} Long Road` : null,
        timeText(start + r.int(0, 86_400_000 * 30), i, 8),
      );
    }
  });
  counts.customers = customerCount;
  progress(customerCount);

  // Orders, their items and the log; stock follows the log unless dirty says otherwise.
  const stock = new Array<number>(productCount + 1).fill(0);
  const insertOrder = db.prepare(
    'insert into orders (id, customer_id, status, total, created_by, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertItem = db.prepare(
    'insert into order_items (order_id, product_id, quantity, unit_price) values (?, ?, ?, ?)',
  );
  const insertLog = db.prepare(
    'insert into inventory_log (product_id, change, reason, ref_order_id, note, created_at) values (?, ?, ?, ?, ?, ?)',
  );
  const log = (productId: number, change: number, reason: string, orderId: number | null, ms: number) => {
    insertLog.run(productId, change, reason, orderId, null, localText(ms));
    if (productId <= productCount) stock[productId]! += change;
    counts.inventory_log++;
  };
  transaction(db, () => {
    for (let p = 1; p <= productCount; p++) log(p, r.int(50, 500), 'purchase', null, start + r.int(0, 86_400_000));
  });
  const step = SPAN_MS / n;
  const batch = 20_000;
  for (let first = 1; first <= n; first += batch) {
    transaction(db, () => {
      for (let o = first; o < Math.min(n + 1, first + batch); o++) {
        const ms = start + 86_400_000 * 31 + Math.floor(o * step * 0.97);
        let status: string = r.pick(STATUSES);
        if (odd(0.03, o, 3)) status = chance(0.5) ? status.toUpperCase() : `${status} `;
        if (odd(0.001, o, 4)) status = 'on_hold';
        let customer: number | null = r.int(1, customerCount);
        if (odd(0.002, o, 5)) customer = customerCount + 1000 + o;
        if (odd(0.001, o, 6)) customer = null;
        const itemCount = odd(0.005, o, 7) ? 0 : r.int(1, 4);
        const used = new Set<number>();
        let total = 0;
        const sold: { product: number; price: number }[] = [];
        const sell = (product: number, quantity: number, price: number) => {
          insertItem.run(o, product, quantity, price);
          counts.order_items++;
          total += quantity * price;
          if (quantity > 0 && product <= productCount) sold.push({ product, price });
          const trimmed = status.trim().toLowerCase();
          if (quantity > 0 && ['paid', 'shipped', 'completed', 'refunded'].includes(trimmed)) {
            // The shop restocks before it runs out: the log never takes a product below zero by itself.
            if (product <= productCount && stock[product]! < quantity)
              log(product, r.int(100, 400), 'purchase', null, ms);
            log(product, -quantity, 'sale', o, ms + 1000);
            if (trimmed === 'refunded') log(product, quantity, 'return', o, ms + 86_400_000);
          }
        };
        for (let k = 0; k < itemCount; k++) {
          let product = r.int(1, productCount);
          if (used.has(product)) continue;
          used.add(product);
          let quantity = r.int(1, 5);
          if (odd(0.004, o, 9) && k === 0) quantity = r.pick([0, -1]);
          if (odd(0.002, o, 10) && k === 0) product = productCount + 100 + k;
          // The last product is deleted at the end: its lines stay behind.
          if (odd(0.002, o, 16) && k === 0) product = productCount;
          sell(product, quantity, prices[Math.min(product, productCount)]!);
        }
        // The same product twice in one order: typed again at another price (a discount), or at the same one.
        const again = sold[0];
        if (again && odd(0.004, o, 14)) sell(again.product, r.int(1, 5), Math.round(again.price * 0.9 * 1000) / 1000);
        else if (again && odd(0.002, o, 15)) sell(again.product, r.int(1, 5), again.price);
        if (odd(0.01, o, 12)) total += r.pick([0.01, 1, -0.5]);
        const createdBy = chance(0.2) ? null : r.int(1, userCount);
        insertOrder.run(
          o,
          customer,
          status,
          total,
          createdBy,
          timeText(ms, o, 13),
          chance(0.5) ? localText(ms + 3_600_000) : null,
        );
        counts.orders++;
        if (o % 97 === 0) log(r.int(1, productCount), r.int(10, 100), 'purchase', null, ms);
      }
    });
    progress(Math.min(batch, n + 1 - first) * 6);
  }
  // Items of an order that was later deleted, log rows of deleted products, adjustments and stocktakes.
  transaction(db, () => {
    if (dirty) {
      insertItem.run(n + 5000, 1, 1, prices[1]!);
      counts.order_items++;
      insertLog.run(productCount + 77, 5, 'purchase', null, null, localText(END));
      counts.inventory_log++;
      insertLog.run(1, 3, 'found it', null, null, localText(END));
      counts.inventory_log++;
      stock[1]! += 3;
    }
    for (let p = 1; p <= productCount; p += 7)
      log(p, -r.int(0, 3), r.pick(['adjust', 'stocktake']), null, END - 86_400_000);
  });
  const setStock = db.prepare('update products set stock = ? where id = ?');
  transaction(db, () => {
    for (let p = 1; p <= productCount; p++) {
      let value = stock[p]!;
      if (odd(0.02, p, 3)) value += r.int(1, 9); // a change the application never logged
      if (odd(0.005, p, 4)) value = -r.int(1, 5);
      setStock.run(value, p);
    }
    if (dirty) {
      // Deleted rows leave their references behind: the legacy application never enforced foreign keys.
      db.prepare('delete from customers where id = ?').run(Math.max(2, Math.floor(customerCount / 2)));
      db.prepare('delete from products where id = ?').run(productCount);
      db.prepare('delete from orders where id = ?').run(Math.max(2, Math.floor(n / 3)));
      counts.customers--;
      counts.products--;
      counts.orders--;
    }
  });
  db.close();
  counts.total =
    counts.users + counts.products + counts.customers + counts.orders + counts.order_items + counts.inventory_log;
  return counts;
}
