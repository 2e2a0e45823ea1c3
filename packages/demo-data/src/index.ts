import { newId } from '@stockgraph/ids';
export { createRandom, type Random } from './random.js';
import { createRandom, type Random } from './random.js';

/**
 * The demo dataset, generated from a seed. Every service derives its own slice from the same call, so
 * ids line up across services without any service reading another's data — also when the services
 * were seeded on different days: the users, products and customers are anchored to a fixed day, and
 * each day's orders come from a generator seeded by that day alone, so a later seeding only adds the
 * days since (and drops the oldest), never changes what an earlier one wrote.
 */
export interface DemoOptions {
  seed?: number;
  /** Orders run up to this day (UTC, exclusive); defaults to today, so the partitions reach the present. */
  until?: Date;
  /** Days of order history. */
  days?: number;
  ordersPerDay?: number;
}

export const DEMO_PASSWORD = 'stockgraph';
export const DEMO_ROLES = ['ADMIN', 'MANAGER', 'STAFF', 'VIEWER'] as const;

export interface DemoUser {
  id: string;
  email: string;
  name: string;
  role: (typeof DEMO_ROLES)[number];
  createdAt: Date;
}

export interface DemoProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  unitPrice: string;
  costPrice: string;
  reorderLevel: number;
  createdAt: Date;
  /** Units received when the catalogue was created. */
  initialStock: number;
}

export interface DemoCustomer {
  id: string;
  name: string;
  phone: string;
  email: string;
  address: string;
  tier: 'STANDARD' | 'SILVER' | 'GOLD' | 'PLATINUM';
  notes: string | null;
  createdAt: Date;
}

export interface DemoOrderItem {
  productId: string;
  quantity: number;
  unitPrice: string;
}

export interface DemoOrder {
  id: string;
  number: string;
  customerId: string;
  status: 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'FULFILLED';
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  items: DemoOrderItem[];
  total: string;
}

export interface DemoData {
  users: DemoUser[];
  products: DemoProduct[];
  customers: DemoCustomer[];
  orders: DemoOrder[];
}

const CATEGORIES: Record<string, string[]> = {
  Electronics: ['USB-C Cable', 'Wireless Mouse', 'Keyboard', 'Power Bank', 'Headphones', 'Webcam', 'Monitor Stand'],
  Office: ['Stapler', 'Notebook A5', 'Gel Pen Set', 'Desk Lamp', 'Paper Ream', 'Label Printer', 'Whiteboard'],
  Kitchen: ['Chef Knife', 'Cutting Board', 'Kettle', 'Coffee Grinder', 'Mixing Bowl', 'Cast Iron Pan'],
  Tools: ['Cordless Drill', 'Screwdriver Set', 'Tape Measure', 'Hammer', 'Spirit Level', 'Utility Knife'],
  Garden: ['Hose Reel', 'Pruning Shears', 'Watering Can', 'Seed Tray', 'Garden Gloves'],
  Sports: ['Yoga Mat', 'Water Bottle', 'Resistance Band', 'Jump Rope', 'Dumbbell 5kg'],
};
const VARIANTS = ['Basic', 'Pro', 'Plus', 'Mini', 'XL'];
const FIRST = [
  'Li',
  'Wang',
  'Zhang',
  'Liu',
  'Chen',
  'Anna',
  'Ben',
  'Chloe',
  'David',
  'Emma',
  'Felix',
  'Grace',
  'Hugo',
  'Iris',
  'Jon',
];
const LAST = [
  'Wei',
  'Fang',
  'Min',
  'Schmidt',
  'Garcia',
  'Okafor',
  'Silva',
  'Novak',
  'Tanaka',
  'Haddad',
  'Kowalski',
  'Berg',
];
const STREETS = ['Harbour Rd', 'Market St', 'Station Ave', 'Lake View', 'Hill Lane', 'Mill Way'];

const DAY = 24 * 60 * 60 * 1000;
/** The catalogue, customers and users exist from this day on, whatever day the data is generated. */
export const DEMO_EPOCH = new Date(Date.UTC(2024, 0, 1));

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

function id(random: Random, at: Date): string {
  return newId(at, random.bytes(16));
}

export function generateDemoData(options: DemoOptions = {}): DemoData {
  const seed = options.seed ?? 20_261_127;
  const random = createRandom(seed);
  const until = options.until ?? new Date();
  const end = Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate());
  const epoch = DEMO_EPOCH;
  // Orders start once the catalogue and customers exist, and cover at most `days` days.
  const start = Math.max(end - (options.days ?? 730) * DAY, epoch.getTime() + 3 * DAY);
  const days = Math.max(0, Math.round((end - start) / DAY));

  const users: DemoUser[] = DEMO_ROLES.map((role, i) => ({
    id: id(random, new Date(epoch.getTime() + i)),
    email: `${role.toLowerCase()}@stockgraph.local`,
    name: `Demo ${role.charAt(0)}${role.slice(1).toLowerCase()}`,
    role,
    createdAt: new Date(epoch.getTime() + i),
  }));

  const products: DemoProduct[] = [];
  for (const [category, names] of Object.entries(CATEGORIES)) {
    for (const base of names) {
      for (const variant of VARIANTS) {
        if (random.next() < 0.35) continue;
        const createdAt = new Date(epoch.getTime() + DAY + products.length * 1000);
        const costCents = random.int(150, 15_000);
        products.push({
          id: id(random, createdAt),
          sku: `${category.slice(0, 3).toUpperCase()}-${String(products.length + 1).padStart(4, '0')}`,
          name: `${base} ${variant}`,
          description: `${variant} edition of our ${base.toLowerCase()}.`,
          category,
          unitPrice: money(Math.round(costCents * (1.3 + random.next() * 0.9))),
          costPrice: money(costCents),
          reorderLevel: random.int(5, 40),
          createdAt,
          initialStock: 0,
        });
      }
    }
  }

  const customers: DemoCustomer[] = Array.from({ length: 400 }, (_, i) => {
    const createdAt = new Date(epoch.getTime() + 2 * DAY + i * 60_000);
    const first = random.pick(FIRST);
    const last = random.pick(LAST);
    const tierRoll = random.next();
    return {
      id: id(random, createdAt),
      name: `${first} ${last}`,
      phone: `+8613${String(800_000_000 + i * 7919).padStart(9, '0')}`,
      email: `${first}.${last}.${i}@example.com`.toLowerCase(),
      address: `${random.int(1, 300)} ${random.pick(STREETS)}`,
      tier: tierRoll < 0.6 ? 'STANDARD' : tierRoll < 0.85 ? 'SILVER' : tierRoll < 0.97 ? 'GOLD' : 'PLATINUM',
      notes: random.next() < 0.1 ? 'Prefers delivery before noon.' : null,
      createdAt,
    };
  });

  const staff = users.filter((u) => u.role !== 'VIEWER');
  const sold = new Map<string, number>();
  const orders: DemoOrder[] = [];
  const perDay = options.ordersPerDay ?? 10;
  for (let day = 0; day < days; day++) {
    const dayStart = start + day * DAY;
    // Seeded by the calendar day, not by its place in the window: the same day always gets the same orders.
    const daily = createRandom(seed ^ Math.imul(dayStart / DAY, 0x9e3779b1));
    const count = daily.int(Math.max(1, perDay - 5), perDay + 5);
    for (let n = 0; n < count; n++) {
      const createdAt = new Date(dayStart + Math.floor(((n + daily.next()) / count) * DAY));
      const picked = new Set<DemoProduct>();
      const lines = daily.int(1, 4);
      while (picked.size < lines) picked.add(daily.pick(products));
      const items = [...picked].map((p) => ({ productId: p.id, quantity: daily.int(1, 5), unitPrice: p.unitPrice }));
      const roll = daily.next();
      // No rule relative to today (such as "recent orders are still open"): services seeded on
      // different days must agree on every order's state.
      const status: DemoOrder['status'] =
        roll < 0.04 ? 'CONFIRMED' : roll < 0.86 ? 'FULFILLED' : roll < 0.95 ? 'CANCELLED' : 'REJECTED';
      if (status === 'FULFILLED' || status === 'CONFIRMED') {
        for (const item of items) sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
      }
      const totalCents = items.reduce((sum, i) => sum + Math.round(Number(i.unitPrice) * 100) * i.quantity, 0);
      orders.push({
        id: id(daily, createdAt),
        number: `SG-${String(orders.length + 1).padStart(7, '0')}`,
        customerId: daily.pick(customers).id,
        status,
        createdAt,
        updatedAt:
          status === 'CONFIRMED'
            ? createdAt
            : new Date(Math.min(createdAt.getTime() + daily.int(1, 12) * 3_600_000, until.getTime())),
        createdBy: daily.pick(staff).id,
        items,
        total: money(totalCents),
      });
    }
  }
  // Enough stock that the history was possible, leaving some products below their reorder level.
  const stock = createRandom(seed + 1);
  for (const product of products) {
    const left = stock.next() < 0.15 ? stock.int(0, product.reorderLevel) : stock.int(product.reorderLevel + 1, 400);
    product.initialStock = (sold.get(product.id) ?? 0) + left;
  }
  return { users, products, customers, orders };
}
