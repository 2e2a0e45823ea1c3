import { newId } from '@stockgraph/ids';
export { createRandom, type Random } from './random.js';
import { createRandom, type Random } from './random.js';

/**
 * The demo dataset, generated from a seed and an anchor day. Every service derives its own slice
 * from the same call, so ids line up across services without any service reading another's data.
 */
export interface DemoOptions {
  seed?: number;
  /** Orders run up to this day (UTC); defaults to today. */
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

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

function id(random: Random, at: Date): string {
  return newId(at, random.bytes(16));
}

export function generateDemoData(options: DemoOptions = {}): DemoData {
  const random = createRandom(options.seed ?? 20_261_127);
  const until = options.until ?? new Date();
  const end = Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate());
  const days = options.days ?? 730;
  const start = end - days * DAY;
  const epoch = new Date(start - 30 * DAY);

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
    const count = random.int(Math.max(1, perDay - 5), perDay + 5);
    const dayStart = start + day * DAY;
    const age = days - day;
    for (let n = 0; n < count; n++) {
      const createdAt = new Date(dayStart + Math.floor(((n + random.next()) / count) * DAY));
      const picked = new Set<DemoProduct>();
      const lines = random.int(1, 4);
      while (picked.size < lines) picked.add(random.pick(products));
      const items = [...picked].map((p) => ({ productId: p.id, quantity: random.int(1, 5), unitPrice: p.unitPrice }));
      const roll = random.next();
      const status: DemoOrder['status'] =
        age <= 3
          ? roll < 0.6
            ? 'CONFIRMED'
            : roll < 0.9
              ? 'FULFILLED'
              : 'CANCELLED'
          : roll < 0.86
            ? 'FULFILLED'
            : roll < 0.95
              ? 'CANCELLED'
              : 'REJECTED';
      if (status === 'FULFILLED' || status === 'CONFIRMED') {
        for (const item of items) sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
      }
      const totalCents = items.reduce((sum, i) => sum + Math.round(Number(i.unitPrice) * 100) * i.quantity, 0);
      orders.push({
        id: id(random, createdAt),
        number: `SG-${String(orders.length + 1).padStart(7, '0')}`,
        customerId: random.pick(customers).id,
        status,
        createdAt,
        updatedAt: status === 'CONFIRMED' ? createdAt : new Date(Math.min(createdAt.getTime() + DAY, end)),
        createdBy: random.pick(staff).id,
        items,
        total: money(totalCents),
      });
    }
  }
  // Enough stock that the history was possible, leaving some products below their reorder level.
  for (const product of products) {
    const left = random.next() < 0.15 ? random.int(0, product.reorderLevel) : random.int(product.reorderLevel + 1, 400);
    product.initialStock = (sold.get(product.id) ?? 0) + left;
  }
  return { users, products, customers, orders };
}
