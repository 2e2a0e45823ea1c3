/**
 * Decides, row by row, what each legacy row becomes: a Stockgraph row, or a quarantine entry with its
 * reason. Decisions depend only on the file and the time zone, so a resumed run decides the same.
 */
import type { SqliteDatabase } from '../legacy/sqlite.js';
import {
  centsToDecimal,
  createTimeParser,
  DEFAULT_REORDER_LEVEL,
  legacyUuid,
  mapCustomerEmail,
  mapPhone,
  mapReason,
  mapRole,
  mapStatus,
  mapUserEmail,
  skuKey,
  toCents,
  type IdTable,
} from './mapping.js';

export interface QuarantineEntry {
  table: string;
  id: number;
  /** `not-imported`: the row is not in Stockgraph. `field-kept-in-notes`: imported, one field moved to notes. */
  action: 'not-imported' | 'field-kept-in-notes';
  reason: string;
}

export interface Flag {
  table: string;
  id: number;
  note: string;
}

export interface Row {
  [column: string]: string | number | boolean | null;
}

export class Planner {
  readonly quarantine: QuarantineEntry[] = [];
  readonly flags: Flag[] = [];
  readonly parse: (text: string | null) => Date | null;
  /** legacy id → new id, for the rows imported. */
  readonly users = new Map<number, string>();
  readonly customers = new Map<number, string>();
  readonly products = new Map<number, { id: string; stock: number; at: Date }>();
  readonly orders = new Map<number, string>();
  /** Legacy ids that exist but were quarantined, to tell "deleted" from "quarantined". */
  private readonly rejected = { customers: new Set<number>(), products: new Set<number>() };
  /** Sum of imported log changes per legacy product, for the reconciliation with products.stock. */
  readonly logged = new Map<number, number>();

  constructor(
    private readonly legacy: SqliteDatabase,
    timeZone: string,
    private readonly salt: Uint8Array,
  ) {
    this.parse = createTimeParser(timeZone);
  }

  uuid(at: Date, table: IdTable, id: number) {
    return legacyUuid(at, table, id, this.salt);
  }

  private reject(table: string, id: number, reason: string) {
    this.quarantine.push({ table, id, action: 'not-imported', reason });
  }

  planUsers(): Row[] {
    const rows: Row[] = [];
    const byEmail = new Map<string, number>();
    const users = this.legacy.prepare('select * from users order by id').all() as Record<
      string,
      string | number | null
    >[];
    for (const u of users) {
      const id = Number(u.id);
      const createdAt = this.parse(u.created_at as string | null);
      const role = mapRole(String(u.role ?? ''));
      const email = mapUserEmail(u.email as string | null);
      const hash = String(u.password_hash ?? '');
      if (!createdAt) this.reject('users', id, `impossible created_at ${JSON.stringify(u.created_at)}`);
      else if (!role) this.reject('users', id, `unknown role ${JSON.stringify(u.role)}`);
      else if (!email)
        this.reject('users', id, `no usable email (${JSON.stringify(u.email)}); Stockgraph signs in by email`);
      else if (byEmail.has(email))
        this.reject('users', id, `email ${email} also belongs to legacy user #${byEmail.get(email)}`);
      else if (!/^sha256\$[^$]*\$[0-9a-f]{64}$/.test(hash))
        this.reject('users', id, 'password hash is not in the legacy sha256$salt$hex format');
      else {
        byEmail.set(email, id);
        const newId = this.uuid(createdAt, 'users', id);
        this.users.set(id, newId);
        const at = createdAt.toISOString();
        rows.push({
          id: newId,
          email,
          name: String(u.username),
          role,
          active: Number(u.is_active) === 1,
          password_hash: hash,
          created_at: at,
          updated_at: at,
        });
      }
    }
    return rows;
  }

  planProducts(): { products: Row[]; prices: Row[] } {
    const products: Row[] = [];
    const prices: Row[] = [];
    const bySku = new Map<string, number>();
    const all = this.legacy.prepare('select * from products order by id').all() as Record<
      string,
      string | number | null
    >[];
    for (const p of all) {
      const id = Number(p.id);
      const createdAt = this.parse(p.created_at as string | null);
      const sku = String(p.sku ?? '').trim();
      const price = toCents(Number(p.price));
      const cost = p.cost === null ? null : toCents(Number(p.cost));
      const stock = Number(p.stock);
      const reason = !createdAt
        ? `impossible created_at ${JSON.stringify(p.created_at)}`
        : sku === ''
          ? 'empty SKU'
          : bySku.has(skuKey(sku))
            ? `duplicate SKU ${JSON.stringify(p.sku)}: same as legacy product #${bySku.get(skuKey(sku))} (case and spaces ignored)`
            : price === null || price < 0
              ? `negative or invalid price ${p.price}`
              : cost !== null && cost < 0
                ? `negative cost ${p.cost}`
                : !Number.isInteger(stock) || stock < 0
                  ? `negative stock (${p.stock}); Stockgraph never holds negative stock`
                  : null;
      if (reason || !createdAt || price === null) {
        this.rejected.products.add(id);
        this.reject('products', id, reason ?? 'invalid');
        continue;
      }
      bySku.set(skuKey(sku), id);
      const updated = this.parse(p.updated_at as string | null);
      const updatedAt = updated && updated >= createdAt ? updated : createdAt;
      const newId = this.uuid(createdAt, 'products', id);
      this.products.set(id, { id: newId, stock, at: updatedAt });
      const unitPrice = centsToDecimal(price);
      const costPrice = cost === null ? null : centsToDecimal(cost);
      products.push({
        id: newId,
        sku,
        name: String(p.name),
        description: p.description as string | null,
        category: p.category as string | null,
        unit_price: unitPrice,
        cost_price: costPrice,
        on_hand: stock,
        reserved: 0,
        reorder_level: p.reorder_level === null ? DEFAULT_REORDER_LEVEL : Number(p.reorder_level),
        created_at: createdAt.toISOString(),
        updated_at: updatedAt.toISOString(),
      });
      prices.push({
        id: this.uuid(createdAt, 'price_history', id),
        product_id: newId,
        unit_price: unitPrice,
        cost_price: costPrice,
        changed_at: createdAt.toISOString(),
      });
    }
    return { products, prices };
  }

  planCustomers(): Row[] {
    const rows: Row[] = [];
    for (const c of this.legacy.prepare('select * from customers order by id').iterate() as Iterable<
      Record<string, string | number | null>
    >) {
      const id = Number(c.id);
      const createdAt = this.parse(c.created_at as string | null);
      if (!createdAt) {
        this.rejected.customers.add(id);
        this.reject('customers', id, `impossible created_at ${JSON.stringify(c.created_at)}`);
        continue;
      }
      const notes: string[] = [];
      const phone = mapPhone(c.phone as string | null);
      if (phone.malformed) {
        notes.push(`Legacy phone: ${c.phone}`);
        this.quarantine.push({
          table: 'customers',
          id,
          action: 'field-kept-in-notes',
          reason: `malformed phone ${JSON.stringify(c.phone)}: not a phone number`,
        });
      }
      const email = mapCustomerEmail(c.email as string | null);
      if (email.malformed) {
        notes.push(`Legacy email: ${c.email}`);
        this.quarantine.push({
          table: 'customers',
          id,
          action: 'field-kept-in-notes',
          reason: `malformed email ${JSON.stringify(c.email)}`,
        });
      }
      const newId = this.uuid(createdAt, 'customers', id);
      this.customers.set(id, newId);
      const at = createdAt.toISOString();
      rows.push({
        id: newId,
        name: String(c.name),
        phone: phone.phone,
        email: email.email,
        address: c.address as string | null,
        tier: 'STANDARD',
        notes: notes.length ? notes.join('\n') : null,
        created_at: at,
        updated_at: at,
      });
    }
    return rows;
  }

  /** One chunk of orders (legacy ids in [from, to]) with their items. */
  planOrders(from: number, to: number): { orders: Row[]; items: Row[]; rows: number } {
    const orders = this.legacy
      .prepare('select * from orders where id between ? and ? order by id')
      .all(from, to) as Record<string, string | number | null>[];
    const items = this.legacy
      .prepare('select * from order_items where order_id between ? and ? order by order_id, id')
      .all(from, to) as Record<string, number>[];
    const itemsByOrder = new Map<number, Record<string, number>[]>();
    for (const item of items) {
      const list = itemsByOrder.get(item.order_id!) ?? [];
      list.push(item);
      itemsByOrder.set(item.order_id!, list);
    }
    const outOrders: Row[] = [];
    const outItems: Row[] = [];
    for (const o of orders) {
      const id = Number(o.id);
      const lines = itemsByOrder.get(id) ?? [];
      itemsByOrder.delete(id);
      const createdAt = this.parse(o.created_at as string | null);
      const status = mapStatus(String(o.status ?? ''));
      const customerId = o.customer_id === null ? null : Number(o.customer_id);
      const customer = customerId === null ? undefined : this.customers.get(customerId);
      const reason = !createdAt
        ? `impossible created_at ${JSON.stringify(o.created_at)}`
        : !status
          ? `unknown status ${JSON.stringify(o.status)}`
          : customerId === null
            ? 'no customer'
            : !customer
              ? this.rejected.customers.has(customerId)
                ? `customer #${customerId} is quarantined`
                : `customer #${customerId} does not exist (deleted)`
              : lines.length === 0
                ? 'no items'
                : null;
      if (reason || !createdAt || !customer) {
        this.reject('orders', id, reason ?? 'invalid');
        for (const line of lines) this.reject('order_items', line.id!, `order #${id} is quarantined`);
        continue;
      }
      const accepted: Row[] = [];
      const seen = new Set<number>();
      let total = 0;
      const at = createdAt.toISOString();
      const newId = this.uuid(createdAt, 'orders', id);
      for (const line of lines) {
        const product = this.products.get(line.product_id!);
        const unit = toCents(Number(line.unit_price));
        const lineReason =
          line.quantity! <= 0
            ? `quantity ${line.quantity} (must be above 0)`
            : !product
              ? this.rejected.products.has(line.product_id!)
                ? `product #${line.product_id} is quarantined`
                : `product #${line.product_id} does not exist (deleted)`
              : seen.has(line.product_id!)
                ? `second line for product #${line.product_id} in order #${id} (Stockgraph keeps one line per product)`
                : unit === null || unit < 0
                  ? `negative or invalid unit price ${line.unit_price}`
                  : null;
        if (lineReason || !product || unit === null) {
          this.reject('order_items', line.id!, lineReason ?? 'invalid');
          continue;
        }
        seen.add(line.product_id!);
        const lineTotal = unit * line.quantity!;
        total += lineTotal;
        accepted.push({
          order_id: newId,
          created_at: at,
          product_id: product.id,
          quantity: line.quantity!,
          unit_price: centsToDecimal(unit),
          line_total: centsToDecimal(lineTotal),
        });
      }
      if (accepted.length === 0) {
        this.reject('orders', id, 'no importable items (each is quarantined)');
        continue;
      }
      const legacyTotal = toCents(Number(o.total));
      if (legacyTotal !== total) {
        this.flags.push({
          table: 'orders',
          id,
          note: `legacy total ${o.total} disagrees with its imported items (${centsToDecimal(total)}); imported with the items' total`,
        });
      }
      const updated = this.parse(o.updated_at as string | null);
      this.orders.set(id, newId);
      outItems.push(...accepted);
      outOrders.push({
        legacy_id: id,
        id: newId,
        created_at: at,
        number: `LG-${String(id).padStart(7, '0')}`,
        customer_id: customer,
        status,
        total: centsToDecimal(total),
        created_by: o.created_by === null ? null : (this.users.get(Number(o.created_by)) ?? null),
        updated_at: (updated && updated >= createdAt ? updated : createdAt).toISOString(),
      });
    }
    // Items in this id range whose order is gone.
    for (const [orderId, lines] of itemsByOrder)
      for (const line of lines) this.reject('order_items', line.id!, `order #${orderId} does not exist (deleted)`);
    return { orders: outOrders, items: outItems, rows: orders.length + items.length };
  }

  /** Items whose order id lies outside every order chunk (beyond the last order, or not positive). */
  planStrayItems(maxOrderId: number): number {
    const stray = this.legacy
      .prepare('select id, order_id from order_items where order_id < 1 or order_id > ?')
      .all(maxOrderId) as { id: number; order_id: number }[];
    for (const s of stray) this.reject('order_items', s.id, `order #${s.order_id} does not exist (deleted)`);
    return stray.length;
  }

  planLedger(from: number, to: number): { movements: Row[]; rows: number } {
    const log = this.legacy
      .prepare('select * from inventory_log where id between ? and ? order by id')
      .all(from, to) as Record<string, string | number | null>[];
    const movements: Row[] = [];
    for (const l of log) {
      const id = Number(l.id);
      const productId = Number(l.product_id);
      const product = this.products.get(productId);
      const createdAt = this.parse(l.created_at as string | null);
      const reason = mapReason(String(l.reason ?? ''));
      const problem = !product
        ? this.rejected.products.has(productId)
          ? `product #${productId} is quarantined`
          : `product #${productId} does not exist (deleted)`
        : !createdAt
          ? `impossible created_at ${JSON.stringify(l.created_at)}`
          : !reason
            ? `unknown reason ${JSON.stringify(l.reason)}`
            : null;
      if (problem || !product || !createdAt || !reason) {
        this.reject('inventory_log', id, problem ?? 'invalid');
        continue;
      }
      const change = Number(l.change);
      this.logged.set(productId, (this.logged.get(productId) ?? 0) + change);
      const legacyReason = String(l.reason).trim().toLowerCase();
      const note =
        [l.note as string | null, legacyReason === 'stocktake' ? 'legacy stocktake' : null]
          .filter(Boolean)
          .join('; ') || null;
      movements.push({
        legacy_id: id,
        id: this.uuid(createdAt, 'inventory_log', id),
        created_at: createdAt.toISOString(),
        product_id: product.id,
        delta: change,
        reason,
        order_id: l.ref_order_id === null ? null : (this.orders.get(Number(l.ref_order_id)) ?? null),
        note,
        actor_id: null,
      });
    }
    return { movements, rows: log.length };
  }

  /**
   * products.stock is what the shop's application last wrote; the log misses a few changes. Stock
   * columns keep products.stock and one ADJUSTMENT per product brings the ledger to it, dated when the
   * application last wrote the product, so the ledger and the columns agree.
   */
  planReconciliation(): Row[] {
    const rows: Row[] = [];
    for (const [legacyId, product] of this.products) {
      const difference = product.stock - (this.logged.get(legacyId) ?? 0);
      if (difference === 0) continue;
      this.flags.push({
        table: 'products',
        id: legacyId,
        note: `stock ${product.stock} disagreed with its imported log by ${difference > 0 ? '+' : ''}${difference}; one ADJUSTMENT reconciles the ledger`,
      });
      rows.push({
        id: this.uuid(product.at, 'reconciliation', legacyId),
        created_at: product.at.toISOString(),
        product_id: product.id,
        delta: difference,
        reason: 'ADJUSTMENT',
        order_id: null,
        note: 'legacy import: products.stock disagreed with the logged changes',
        actor_id: null,
      });
    }
    return rows;
  }
}
