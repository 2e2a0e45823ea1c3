/**
 * Decides, row by row, what each legacy row becomes: a Stockgraph row, part of another one (a
 * duplicate SKU, a repeated order line), an order line on a placeholder product (its product is gone),
 * or a quarantine entry with its reason. No sale that can be placed is dropped: quarantine is for what
 * cannot be placed anywhere. Decisions depend only on the file and the time zone, so a resumed run
 * decides the same.
 */
import type { StatementSync } from 'node:sqlite';
import type { RewrittenValue, UnreadableRow } from '../legacy/snapshot.js';
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
  PLACEHOLDER_CATEGORY,
  placeholderSku,
  skuKey,
  toCents,
  weightedUnitCents,
  type IdTable,
} from './mapping.js';

/**
 * A legacy row that is not imported as it was. Only `not-imported` rows are missing from Stockgraph;
 * the others are imported and listed so that nothing changes silently.
 */
export interface QuarantineEntry {
  table: string;
  id: number;
  /**
   * `not-imported`: the row is not in Stockgraph. `field-kept-in-notes`: imported, one field moved to
   * notes. `merged`: imported into another row (a duplicate SKU into the first product with that SKU,
   * a second line for a product into the order's line for it). `kept-on-placeholder`: an order line
   * imported against a placeholder product, its own product being deleted or quarantined.
   */
  action: QuarantineAction;
  reason: string;
}

export type QuarantineAction = 'not-imported' | 'field-kept-in-notes' | 'merged' | 'kept-on-placeholder';

/** Where a legacy product's rows go: its own Stockgraph product, or (a merged duplicate) its survivor's. */
export interface ProductTarget {
  /** The Stockgraph product id. */
  id: string;
  /** The legacy id of the product that survives (the product's own id unless it was merged). */
  survivor: number;
}

interface Survivor {
  id: string;
  /** products.stock of the survivor plus that of every product merged into it. */
  stock: number;
  at: Date;
}

/** A Stockgraph product standing for a legacy product that order lines name but that is not imported. */
export interface Placeholder {
  id: string;
  sku: string;
  state: 'deleted' | 'quarantined';
}

type LegacyRow = Record<string, string | number | null>;

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
  readonly products = new Map<number, ProductTarget>();
  /** Legacy product id (deleted or quarantined) → the placeholder holding its order lines. */
  readonly placeholders = new Map<number, Placeholder>();
  readonly orders = new Map<number, string>();
  /** One per SKU, by legacy id of the survivor. */
  private readonly survivors = new Map<number, Survivor>();
  private customersPlanned = false;
  /** Legacy ids that exist but were quarantined, to tell "deleted" from "quarantined". */
  private readonly rejected = { customers: new Set<number>(), products: new Set<number>() };
  /** Sum of imported log changes per surviving legacy product, for the reconciliation with products.stock. */
  readonly logged = new Map<number, number>();
  /** `table:id` → why the snapshot could not read the row as the legacy schema means it. */
  private readonly unreadable = new Map<string, string>();

  constructor(
    private readonly legacy: SqliteDatabase,
    timeZone: string,
    private readonly salt: Uint8Array,
    snapshot: { unreadable: readonly UnreadableRow[]; rewritten: readonly RewrittenValue[] } = {
      unreadable: [],
      rewritten: [],
    },
  ) {
    this.parse = createTimeParser(timeZone);
    for (const row of snapshot.unreadable) this.unreadable.set(`${row.table}:${row.id}`, row.reason);
    for (const row of snapshot.rewritten) this.flags.push(row);
  }

  /** The statements run once per slice of ids, prepared once. */
  private readonly statements = new Map<string, StatementSync>();
  private prepared(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.legacy.prepare(sql)));
    return statement;
  }

  /**
   * Takes the catalogue's decisions made by another planner: which legacy products are imported, as
   * what, and which were quarantined. A sync plans the ledger in a worker thread with a planner of its
   * own, and the ledger needs nothing else of the planning before it but the orders' ids.
   */
  adoptCatalog(products: Iterable<[number, ProductTarget]>, quarantined: Iterable<number>): void {
    for (const [id, target] of products) this.products.set(id, target);
    for (const id of quarantined) this.rejected.products.add(id);
  }

  /** The legacy products quarantined (for adoptCatalog). */
  quarantinedProducts(): number[] {
    return [...this.rejected.products];
  }

  /**
   * toCents of a line's unit price. A store sells a few thousand prices across millions of lines; the
   * conversion goes through the float's text, so it is done once per price.
   */
  private readonly priceCents = new Map<number, number | null>();
  private unitCents(price: number): number | null {
    let cents = this.priceCents.get(price);
    if (cents === undefined) this.priceCents.set(price, (cents = toCents(price)));
    return cents;
  }

  /** Why this row cannot be read (a column holding what its kind cannot), or undefined. */
  private unreadableReason(table: string, id: number): string | undefined {
    return this.unreadable.size === 0 ? undefined : this.unreadable.get(`${table}:${id}`);
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
      const unreadable = this.unreadableReason('users', id);
      if (unreadable) this.reject('users', id, unreadable);
      else if (!createdAt) this.reject('users', id, `impossible created_at ${JSON.stringify(u.created_at)}`);
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

  /**
   * Products, and the placeholders that keep the sales of products that are gone. Needs the customers
   * planned first: a placeholder is made only for a line that will be imported, which its order's
   * customer decides.
   */
  planProducts(): { products: Row[]; prices: Row[] } {
    if (!this.customersPlanned) throw new Error('plan customers before products');
    const products: Row[] = [];
    const prices: Row[] = [];
    /** SKU key → the survivor's legacy id and its row (whose on_hand merged duplicates add to). */
    const bySku = new Map<string, { id: number; row: Row }>();
    const all = this.legacy.prepare('select * from products order by id').all() as LegacyRow[];
    for (const p of all) {
      const id = Number(p.id);
      const createdAt = this.parse(p.created_at as string | null);
      const sku = String(p.sku ?? '').trim();
      const price = toCents(Number(p.price));
      const cost = p.cost === null ? null : toCents(Number(p.cost));
      const stock = Number(p.stock);
      const reason =
        this.unreadableReason('products', id) ??
        (!createdAt
          ? `impossible created_at ${JSON.stringify(p.created_at)}`
          : sku === ''
            ? 'empty SKU'
            : price === null || price < 0
              ? `negative or invalid price ${p.price}`
              : cost !== null && cost < 0
                ? `negative cost ${p.cost}`
                : !Number.isInteger(stock) || stock < 0
                  ? `negative stock (${p.stock}); Stockgraph never holds negative stock`
                  : null);
      if (reason || !createdAt || price === null) {
        this.rejected.products.add(id);
        this.reject('products', id, reason ?? 'invalid');
        continue;
      }
      // The unique index was never created: a later product with the same SKU (case and spaces
      // ignored) is the same article typed twice. It joins the first valid one: its stock adds up,
      // its order lines and log rows follow; its own name and prices are not kept.
      const first = bySku.get(skuKey(sku));
      if (first) {
        const survivor = this.survivors.get(first.id)!;
        survivor.stock += stock;
        first.row.on_hand = survivor.stock;
        this.products.set(id, { id: survivor.id, survivor: first.id });
        this.quarantine.push({
          table: 'products',
          id,
          action: 'merged',
          reason: `same SKU as legacy product #${first.id} (${JSON.stringify(p.sku)}; case and spaces ignored): its stock, order lines and log rows are on that product`,
        });
        continue;
      }
      const updated = this.parse(p.updated_at as string | null);
      const updatedAt = updated && updated >= createdAt ? updated : createdAt;
      const newId = this.uuid(createdAt, 'products', id);
      this.products.set(id, { id: newId, survivor: id });
      this.survivors.set(id, { id: newId, stock, at: updatedAt });
      const unitPrice = centsToDecimal(price);
      const costPrice = cost === null ? null : centsToDecimal(cost);
      const row: Row = {
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
      };
      bySku.set(skuKey(sku), { id, row });
      products.push(row);
      prices.push({
        id: this.uuid(createdAt, 'price_history', id),
        product_id: newId,
        unit_price: unitPrice,
        cost_price: costPrice,
        changed_at: createdAt.toISOString(),
      });
    }
    for (const row of this.planPlaceholders(new Set(bySku.keys()))) {
      products.push(row);
      prices.push({
        id: this.uuid(new Date(String(row.created_at)), 'price_history', Number(row.legacy_id)),
        product_id: row.id!,
        unit_price: row.unit_price!,
        cost_price: null,
        changed_at: row.created_at!,
      });
    }
    return { products, prices };
  }

  /**
   * A line whose product was deleted (or quarantined) is still a sale: it is kept against a
   * placeholder product named after the legacy id, made here because the products (and the orders
   * service's copy of their prices) are written before the order lines. Only lines the orders step
   * will import count: a positive quantity and a valid price, in an order that is imported.
   */
  private planPlaceholders(skuKeys: Set<string>): Row[] {
    const lines = this.legacy
      .prepare(
        `select i.id, i.product_id, i.quantity, i.unit_price, o.id as order_id, o.customer_id, o.status, o.created_at
         from order_items i join orders o on o.id = i.order_id
         where i.product_id not in (select value from json_each(?))
         order by i.product_id, i.id`,
      )
      .all(JSON.stringify([...this.products.keys()])) as LegacyRow[];
    const wanted = new Map<number, { at: Date; cents: number }>();
    for (const line of lines) {
      const productId = Number(line.product_id);
      const cents = toCents(Number(line.unit_price));
      if (this.unreadableReason('order_items', Number(line.id))) continue;
      if (Number(line.quantity) <= 0 || cents === null || cents < 0) continue;
      const order = this.checkOrder(line);
      if (!order.createdAt) continue;
      const seen = wanted.get(productId);
      // The first line (lowest id) gives the price; the earliest sale, the placeholder's creation time.
      if (!seen) wanted.set(productId, { at: order.createdAt, cents });
      else if (order.createdAt < seen.at) seen.at = order.createdAt;
    }
    const rows: Row[] = [];
    for (const [legacyId, { at, cents }] of wanted) {
      const state = this.rejected.products.has(legacyId) ? 'quarantined' : 'deleted';
      let sku = placeholderSku(legacyId);
      for (let n = 2; skuKeys.has(skuKey(sku)); n++) sku = `${placeholderSku(legacyId)}-${n}`;
      skuKeys.add(skuKey(sku));
      const id = this.uuid(at, 'placeholder_products', legacyId);
      this.placeholders.set(legacyId, { id, sku, state });
      this.flags.push({
        table: 'products',
        id: legacyId,
        note: `${state === 'deleted' ? 'does not exist (deleted)' : 'quarantined'}: its order lines are kept against placeholder product ${sku} (no stock)`,
      });
      rows.push({
        legacy_id: legacyId,
        id,
        sku,
        name: `Legacy product #${legacyId} (${state})`,
        description: `Stands for legacy product #${legacyId}, ${state === 'deleted' ? 'deleted from the legacy store' : 'quarantined by the import'}, so that its sales are kept.`,
        category: PLACEHOLDER_CATEGORY,
        unit_price: centsToDecimal(cents),
        cost_price: null,
        on_hand: 0,
        reserved: 0,
        reorder_level: 0,
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
      });
    }
    return rows;
  }

  /** Whether a legacy order can be imported (its lines aside), and what it needs to be. */
  private checkOrder(o: LegacyRow): {
    reason: string | null;
    createdAt: Date | null;
    status: ReturnType<typeof mapStatus>;
    customer: string | undefined;
  } {
    const createdAt = this.parse(o.created_at as string | null);
    const status = mapStatus(String(o.status ?? ''));
    const customerId = o.customer_id === null ? null : Number(o.customer_id);
    const customer = customerId === null ? undefined : this.customers.get(customerId);
    const unreadable = this.unreadableReason('orders', Number(o.id));
    const reason = unreadable
      ? unreadable
      : !createdAt
        ? `impossible created_at ${JSON.stringify(o.created_at)}`
        : !status
          ? `unknown status ${JSON.stringify(o.status)}`
          : customerId === null
            ? 'no customer'
            : !customer
              ? this.rejected.customers.has(customerId)
                ? `customer #${customerId} is quarantined`
                : `customer #${customerId} does not exist (deleted)`
              : null;
    return reason
      ? { reason, createdAt: null, status: null, customer: undefined }
      : { reason, createdAt, status, customer };
  }

  planCustomers(): Row[] {
    const rows: Row[] = [];
    for (const c of this.legacy.prepare('select * from customers order by id').iterate() as Iterable<
      Record<string, string | number | null>
    >) {
      const id = Number(c.id);
      const createdAt = this.parse(c.created_at as string | null);
      const unreadable = this.unreadableReason('customers', id);
      if (unreadable || !createdAt) {
        this.rejected.customers.add(id);
        this.reject('customers', id, unreadable ?? `impossible created_at ${JSON.stringify(c.created_at)}`);
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
    this.customersPlanned = true;
    return rows;
  }

  /** One chunk of orders (legacy ids in [from, to]) with their items. */
  planOrders(from: number, to: number): { orders: Row[]; items: Row[]; rows: number } {
    const orders = this.prepared('select * from orders where id between ? and ? order by id').all(
      from,
      to,
    ) as LegacyRow[];
    const items = this.prepared('select * from order_items where order_id between ? and ? order by order_id, id').all(
      from,
      to,
    ) as Record<string, number>[];
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
      const { reason: orderReason, createdAt, status, customer } = this.checkOrder(o);
      const reason = orderReason ?? (lines.length === 0 ? 'no items' : null);
      if (reason || !createdAt || !customer) {
        this.reject('orders', id, reason ?? 'invalid');
        for (const line of lines) this.reject('order_items', line.id!, `order #${id} is quarantined`);
        continue;
      }
      const at = createdAt.toISOString();
      const newId = this.uuid(createdAt, 'orders', id);
      // Stockgraph keeps one line per product (order_items' key is order + product): every further line
      // for the same product (the same legacy product, or two merged by SKU) joins the first one, its
      // quantity and its cents added, so units and revenue stay exact (see weightedUnitCents).
      const byProduct = new Map<string, { product: number; quantity: number; cents: number }>();
      for (const line of lines) {
        const productId = line.product_id!;
        const unit = this.unitCents(Number(line.unit_price));
        const placeholder = this.placeholders.get(productId);
        const target = this.products.get(productId) ?? (placeholder && { id: placeholder.id, survivor: productId });
        const lineReason =
          this.unreadableReason('order_items', line.id!) ??
          (line.quantity! <= 0
            ? `quantity ${line.quantity} (must be above 0)`
            : unit === null || unit < 0
              ? `negative or invalid unit price ${line.unit_price}`
              : !target
                ? this.rejected.products.has(productId)
                  ? `product #${productId} is quarantined`
                  : `product #${productId} does not exist (deleted)`
                : null);
        if (lineReason || !target || unit === null) {
          this.reject('order_items', line.id!, lineReason ?? 'invalid');
          continue;
        }
        const merged = byProduct.get(target.id);
        if (merged) {
          merged.quantity += line.quantity!;
          merged.cents += unit * line.quantity!;
          this.quarantine.push({
            table: 'order_items',
            id: line.id!,
            action: 'merged',
            reason: `merged into the line for product #${merged.product} of order #${id}`,
          });
          continue;
        }
        byProduct.set(target.id, { product: target.survivor, quantity: line.quantity!, cents: unit * line.quantity! });
        if (placeholder)
          this.quarantine.push({
            table: 'order_items',
            id: line.id!,
            action: 'kept-on-placeholder',
            reason: `product #${productId} ${placeholder.state === 'deleted' ? 'does not exist (deleted)' : 'is quarantined'}: kept against placeholder product ${placeholder.sku}`,
          });
      }
      if (byProduct.size === 0) {
        this.reject('orders', id, 'no importable items (each is quarantined)');
        continue;
      }
      let total = 0;
      for (const [productId, line] of byProduct) {
        total += line.cents;
        outItems.push({
          order_id: newId,
          created_at: at,
          product_id: productId,
          quantity: line.quantity,
          unit_price: centsToDecimal(weightedUnitCents(line.cents, line.quantity)),
          line_total: centsToDecimal(line.cents),
        });
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

  /** Items whose order id lies outside every order chunk (beyond the last order, not positive, or unreadable). */
  planStrayItems(maxOrderId: number): number {
    const stray = this.legacy
      .prepare('select id, order_id from order_items where order_id is null or order_id < 1 or order_id > ?')
      .all(maxOrderId) as { id: number; order_id: number | null }[];
    for (const s of stray)
      this.reject(
        'order_items',
        s.id,
        this.unreadableReason('order_items', s.id) ?? `order #${s.order_id} does not exist (deleted)`,
      );
    return stray.length;
  }

  planLedger(from: number, to: number): { movements: Row[]; rows: number } {
    const log = this.prepared('select * from inventory_log where id between ? and ? order by id').all(
      from,
      to,
    ) as Record<string, string | number | null>[];
    const movements: Row[] = [];
    for (const l of log) {
      const id = Number(l.id);
      const productId = Number(l.product_id);
      const product = this.products.get(productId);
      const createdAt = this.parse(l.created_at as string | null);
      const reason = mapReason(String(l.reason ?? ''));
      // A product that no longer exists (deleted, or quarantined; a placeholder holds no stock) has no
      // stock for its log rows to explain: they stay out, so the ledger still equals on_hand.
      const problem =
        this.unreadableReason('inventory_log', id) ??
        (!product
          ? this.rejected.products.has(productId)
            ? `product #${productId} is quarantined: no stock is imported for its log rows to explain`
            : `product #${productId} does not exist (deleted): no stock is left for its log rows to explain`
          : !createdAt
            ? `impossible created_at ${JSON.stringify(l.created_at)}`
            : !reason
              ? `unknown reason ${JSON.stringify(l.reason)}`
              : null);
      if (problem || !product || !createdAt || !reason) {
        this.reject('inventory_log', id, problem ?? 'invalid');
        continue;
      }
      const change = Number(l.change);
      this.logged.set(product.survivor, (this.logged.get(product.survivor) ?? 0) + change);
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
   * columns keep products.stock (summed over the products merged by SKU) and one ADJUSTMENT per
   * product brings the ledger to it, dated when the application last wrote the product, so the ledger
   * and the columns agree.
   */
  planReconciliation(): Row[] {
    const rows: Row[] = [];
    for (const [legacyId, product] of this.survivors) {
      const difference = product.stock - (this.logged.get(legacyId) ?? 0);
      if (difference === 0) continue;
      this.flags.push({
        table: 'products',
        id: legacyId,
        note: `stock ${product.stock} disagreed with its imported log by ${difference > 0 ? '+' : ''}${difference}; one ADJUSTMENT reconciles the ledger`,
      });
      rows.push({
        legacy_id: legacyId,
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
