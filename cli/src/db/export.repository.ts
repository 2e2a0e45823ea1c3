/**
 * The export's SQL (`stockgraph export sqlite`): reads only, each service inside one read-only
 * REPEATABLE READ transaction, so the rows, the counts and the total it checks the file against come
 * from one snapshot per service.
 *
 * Legacy ids come from the importer's `legacy_import.id_map` (legacy_table, legacy_id, new_id), kept in
 * each service's own database. Its key is (legacy_table, legacy_id); there is no index on new_id. For the
 * big tables (orders, the ledger) a row's legacy id is found through that key all the same: the importer's
 * ids carry the legacy id in their last 48 bits (cli/src/import/mapping.ts `legacyUuid`), so the row's
 * candidate legacy id is read from its uuid and the id map confirms it (`new_id = id`). A row created in
 * Stockgraph has a random tail, which the id map never confirms: it is a new row.
 */
import type { Sql, Tx } from './import.repository.js';

export { connect, type Sql, type Tx } from './import.repository.js';

/** Read-only snapshot of one service: everything `body` reads sees the same committed state. */
export function snapshot<T>(sql: Sql, body: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin('isolation level repeatable read read only', body) as Promise<T>;
}

export async function hasIdMap(tx: Tx): Promise<boolean> {
  const [row] = await tx`select to_regclass('legacy_import.id_map')::text as t`;
  return Boolean(row?.t);
}

export async function hasArchive(tx: Tx): Promise<boolean> {
  const [row] = await tx`select to_regclass('orders_archive.orders')::text as t`;
  return Boolean(row?.t);
}

/** new id → its lowest legacy id among `tables` (a duplicate-SKU merge maps several legacy ids to one). */
export async function lowestLegacyIds(tx: Tx, tables: string[]): Promise<Map<string, number>> {
  const rows = await tx<{ id: string; legacy_id: string }[]>`
    select new_id::text as id, min(legacy_id)::text as legacy_id from legacy_import.id_map
    where legacy_table = any(${tables}) group by new_id`;
  return new Map(rows.map((r) => [r.id, Number(r.legacy_id)]));
}

export async function maxLegacyId(tx: Tx, tables: string[]): Promise<number> {
  const [row] = await tx<{ m: string | null }[]>`
    select max(legacy_id)::text as m from legacy_import.id_map where legacy_table = any(${tables})`;
  return Number(row?.m ?? 0);
}

/** The candidate legacy id a uuid of the importer carries in its last 48 bits (see the header). */
const CANDIDATE = (column: string) => `('x' || right(replace(${column}::text, '-', ''), 12))::bit(48)::bigint`;

/** Legacy ids of the given new ids of `table`, confirmed by the id map; ids without one are new rows. */
export async function confirmedLegacyIds(tx: Tx | Sql, table: string, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.unsafe<{ id: string; legacy_id: string }[]>(
    `select u.id::text as id, m.legacy_id::text as legacy_id from unnest($1::uuid[]) as u(id)
     join legacy_import.id_map m on m.legacy_table = $2 and m.legacy_id = ${CANDIDATE('u.id')} and m.new_id = u.id`,
    [ids, table],
  );
  return new Map(rows.map((r) => [r.id, Number(r.legacy_id)]));
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  active: boolean;
  password_hash: string;
  created_at: Date;
}

/** Users in (created_at, id) order, the order new rows get their ids in; a few hundred rows at most. */
export function users(tx: Tx): Promise<UserRow[]> {
  return tx<UserRow[]>`
    select id::text, email, name, role::text, active, password_hash, created_at from users.users order by created_at, id`;
}

export interface CustomerRow {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  address: string | null;
  created_at: Date;
}

/**
 * Customers in (created_at, id) order, the order new rows get their ids in, through a server-side cursor:
 * there is no (created_at, id) index, so one sort for the whole read rather than one per page.
 */
export function customersCursor(tx: Tx, batch: number): AsyncIterable<CustomerRow[]> {
  return tx<CustomerRow[]>`
    select id::text, name, phone, email, address, created_at from customers.customers order by created_at, id`.cursor(
    batch,
  );
}

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  category: string | null;
  description: string | null;
  unit_price: string;
  cost_price: string | null;
  on_hand: number;
  reorder_level: number;
  created_at: Date;
  updated_at: Date;
}

/** Products in (created_at, id) order through a cursor, as customers. */
export function productsCursor(tx: Tx, batch: number): AsyncIterable<ProductRow[]> {
  return tx<ProductRow[]>`
    select id::text, sku, name, category, description, unit_price::text, cost_price::text, on_hand, reorder_level,
      created_at, updated_at
    from inventory.products order by created_at, id`.cursor(batch);
}

/** The keyset of a page: created_at as PostgreSQL's own text (microseconds kept) and the id. */
export interface Keyset {
  at: string;
  id: string;
}

export interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  key_at: string;
}

/** Live orders and, when months were archived (`partitions archive`), the archived ones: all that is held. */
const ordersFrom = (archive: boolean) =>
  archive
    ? `(select id, customer_id, status, total, created_by, created_at, updated_at from orders.orders
        union all select id, customer_id, status, total, created_by, created_at, updated_at from orders_archive.orders)`
    : 'orders.orders';
const itemsFrom = (archive: boolean) =>
  archive
    ? `(select order_id, product_id, quantity, unit_price, created_at from orders.order_items
        union all select order_id, product_id, quantity, unit_price, created_at from orders_archive.order_items)`
    : 'orders.order_items';

/**
 * One page of orders after the keyset, by (created_at, id): `orders_created_id_idx` on every partition,
 * merged, so each page costs its own rows whatever the table's size.
 */
export function ordersPage(tx: Tx, archive: boolean, after: Keyset | null, limit: number): Promise<OrderRow[]> {
  return tx.unsafe<OrderRow[]>(
    `select id::text, customer_id::text, status::text, total::text, created_by::text, created_at, updated_at,
       created_at::text as key_at
     from ${ordersFrom(archive)} o
     ${after ? 'where (created_at, id) > ($2::timestamptz, $3::uuid)' : ''}
     order by created_at, id limit $1`,
    after ? [limit, after.at, after.id] : [limit],
  );
}

export interface ItemRow {
  order_id: string;
  product_id: string;
  quantity: number;
  unit_price: string;
}

/** The lines of a page of orders; bounded by the page's creation times, so only its partitions are read. */
export function itemsOf(tx: Tx, archive: boolean, orderIds: string[], from: string, to: string): Promise<ItemRow[]> {
  return tx.unsafe<ItemRow[]>(
    `select order_id::text, product_id::text, quantity, unit_price::text from ${itemsFrom(archive)} i
     where order_id = any($1::uuid[]) and created_at between $2::timestamptz and $3::timestamptz
     order by created_at, order_id, product_id`,
    [orderIds, from, to],
  );
}

export interface OrderFigures {
  orders: number;
  order_items: number;
  /** Sum of the order totals in cents, exact (numeric). */
  total_cents: string;
}

export async function orderFigures(tx: Tx, archive: boolean): Promise<OrderFigures> {
  const [row] = await tx.unsafe<{ orders: string; order_items: string; total_cents: string }[]>(
    `select (select count(*) from ${ordersFrom(archive)} o)::text as orders,
       (select count(*) from ${itemsFrom(archive)} i)::text as order_items,
       (select coalesce(sum(total), 0) * 100 from ${ordersFrom(archive)} o)::bigint::text as total_cents`,
  );
  return { orders: Number(row!.orders), order_items: Number(row!.order_items), total_cents: row!.total_cents };
}

export async function counts(
  tx: Tx,
  table: 'users.users' | 'customers.customers' | 'inventory.products',
): Promise<number> {
  const [row] = await tx.unsafe<{ n: string }[]>(`select count(*)::text as n from ${table}`);
  return Number(row!.n);
}

/** Ledger rows per reason: the export writes some reasons and counts the others as skipped. */
export async function movementReasons(tx: Tx): Promise<Record<string, number>> {
  const rows = await tx<{ reason: string; n: string }[]>`
    select reason::text, count(*)::text as n from inventory.stock_movements group by reason`;
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

export interface MovementRow {
  id: string;
  product_id: string;
  delta: number;
  reason: string;
  order_id: string | null;
  note: string | null;
  created_at: Date;
  /** The legacy inventory_log id, when the importer wrote this row from one. */
  legacy_id: string | null;
}

/**
 * The ledger rows of `reasons` in (created_at, id) order, through a server-side cursor: the ledger has
 * no (created_at, id) index, so one sort for the whole read instead of one per page. The legacy id is
 * joined here (same database, key lookups) so nothing else runs on this connection during the cursor.
 */
export function movementsCursor(
  tx: Tx,
  reasons: string[],
  withIdMap: boolean,
  batch: number,
): AsyncIterable<MovementRow[]> {
  const legacy = withIdMap
    ? `(select m.legacy_id::text from legacy_import.id_map m where m.legacy_table = 'inventory_log'
         and m.legacy_id = ${CANDIDATE('s.id')} and m.new_id = s.id)`
    : 'null::text';
  return tx
    .unsafe<MovementRow[]>(
      `select s.id::text, s.product_id::text, s.delta, s.reason::text, s.order_id::text, s.note, s.created_at,
         ${legacy} as legacy_id
       from inventory.stock_movements s where s.reason::text = any($1::text[]) order by s.created_at, s.id`,
      [reasons],
    )
    .cursor(batch);
}
