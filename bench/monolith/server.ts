/**
 * The reference monolith: the shape of the legacy system Stockgraph replaces, kept only so the
 * benchmarks have something honest to compare against. One process, one GraphQL endpoint, one
 * database, placeOrder as one local transaction — no gateway hop, no saga, no events. It is written
 * the way a careful team would have written the old system (a document cache, prepared statements,
 * a connection pool, locks in a fixed order), so a win for Stockgraph is not a win over a straw man.
 *
 *   node --import tsx bench/monolith/server.ts --store sqlite|postgres --port N
 *        [--database-url URL] [--file PATH]
 *
 * Env MONOLITH_PUBLIC_JWK: the ES256 public key (a JSON JWK) every request's bearer token is checked
 * against; the token's `sub` is the user. Prints exactly `ready <port>` on stdout once it listens
 * (--port 0 picks a free one); everything else goes to stderr. Every start begins with empty tables:
 * PostgreSQL's schema `monolith` is dropped and created, the SQLite file's tables likewise.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { buildSchema, execute, GraphQLError, parse, validate, type DocumentNode } from 'graphql';
import { importJWK, jwtVerify, type JWK } from 'jose';
import postgres from 'postgres';

// ---------------------------------------------------------------------------------------------------
// Command line

const USAGE =
  'usage: node --import tsx bench/monolith/server.ts --store sqlite|postgres --port N [--database-url URL] [--file PATH]\n';

type Config =
  | { store: 'sqlite'; port: number; file: string | undefined }
  | { store: 'postgres'; port: number; databaseUrl: string };

function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseCommandLine(): Config {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        store: { type: 'string' },
        port: { type: 'string' },
        'database-url': { type: 'string' },
        file: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const port = Number(values.port);
  if (values.port === undefined || !/^\d+$/.test(values.port) || port > 65535) usageError('--port N is required');
  if (values.store === 'sqlite') {
    if (values['database-url'] !== undefined) usageError('--database-url is for --store postgres');
    return { store: 'sqlite', port, file: values.file };
  }
  if (values.store === 'postgres') {
    if (values.file !== undefined) usageError('--file is for --store sqlite');
    if (!values['database-url']) usageError('--store postgres needs --database-url');
    return { store: 'postgres', port, databaseUrl: values['database-url'] };
  }
  usageError('--store must be sqlite or postgres');
}

// ---------------------------------------------------------------------------------------------------
// Errors: the codes clients switch on. Anything else thrown is a bug and reaches the client only as
// INTERNAL_SERVER_ERROR, without its message or stack (see formatError).

type ErrorCode = 'UNAUTHENTICATED' | 'BAD_USER_INPUT' | 'CONFLICT' | 'INTERNAL_SERVER_ERROR';

class CodedError extends GraphQLError {
  constructor(message: string, code: ErrorCode) {
    super(message, { extensions: { code } });
  }
}

const badInput = (message: string) => new CodedError(message, 'BAD_USER_INPUT');

// ---------------------------------------------------------------------------------------------------
// Schema: the same contract as Stockgraph's placeOrder, so the bench sends both the same documents.

const SDL = /* GraphQL */ `
  input OrderItemInput {
    productId: ID!
    quantity: Int!
  }
  input PlaceOrderInput {
    customerId: ID!
    items: [OrderItemInput!]!
    idempotencyKey: String!
  }
  enum OrderStatus {
    CONFIRMED
    REJECTED
  }
  type Order {
    id: ID!
    number: String!
    status: OrderStatus!
    total: String!
    customerId: ID!
    createdAt: String!
  }
  type Product {
    id: ID!
    sku: String!
    name: String!
    unitPrice: String!
    available: Int!
  }
  type ProductEdge {
    node: Product!
  }
  type ProductConnection {
    edges: [ProductEdge!]!
  }
  type OrderEdge {
    node: Order!
  }
  type OrderConnection {
    edges: [OrderEdge!]!
  }
  input OrderFilter {
    customerId: ID
  }
  type Query {
    products(first: Int!): ProductConnection!
    orders(first: Int!, filter: OrderFilter): OrderConnection!
  }
  type Mutation {
    placeOrder(input: PlaceOrderInput!): Order!
    seedProducts(count: Int!, stock: Int!, unitPrice: String!): [ID!]!
  }
`;

interface OrderLineInput {
  productId: string;
  quantity: number;
}

interface PlaceOrderInput {
  customerId: string;
  items: OrderLineInput[];
  idempotencyKey: string;
}

interface Order {
  id: string;
  number: string;
  status: 'CONFIRMED' | 'REJECTED';
  total: string;
  customerId: string;
  createdAt: string;
}

interface Product {
  id: string;
  sku: string;
  name: string;
  unitPrice: string;
  available: number;
}

// ---------------------------------------------------------------------------------------------------
// Money and input rules, shared by both stores.

/** Prices are whole cents in integers; at most 7 digits of units keeps every order total (≤ 50 lines
 *  × 1000 units) far inside Number's exact integer range. */
function parseCents(price: string): number {
  const match = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(price);
  if (!match) throw badInput('unitPrice must be a decimal string such as "19.90"');
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lower-cased, so SQLite's text ids compare and sort the way PostgreSQL's uuids do. */
function uuid(value: string, argument: string): string {
  if (!UUID.test(value)) throw badInput(`${argument} must be a UUID`);
  return value.toLowerCase();
}

function count(value: number, argument: string, max: number): number {
  if (value < 1 || value > max) throw badInput(`${argument} must be between 1 and ${max}`);
  return value;
}

/** The request an idempotency key stands for: a retry must send the same customer and lines. */
function requestHash(input: PlaceOrderInput): string {
  const lines = input.items.map((item) => [item.productId, item.quantity]);
  return createHash('sha256')
    .update(JSON.stringify([input.customerId, lines]))
    .digest('hex');
}

interface StockRow {
  unitPriceCents: number;
  available: number;
}

interface PricedOrder {
  status: Order['status'];
  totalCents: number;
  lines: { productId: string; quantity: number; unitPriceCents: number; lineTotalCents: number }[];
  /** Units to reserve per product, empty when the order is rejected. */
  reservations: Map<string, number>;
}

/**
 * Prices the lines at the products' current prices and decides the outcome: confirmed only if every
 * product has the units, all or nothing. A product on two lines needs both lines' units, so stock is
 * checked per product, not per line.
 */
function priceOrder(items: OrderLineInput[], stock: Map<string, StockRow>): PricedOrder {
  const wanted = new Map<string, number>();
  const lines = items.map(({ productId, quantity }) => {
    const product = stock.get(productId);
    if (!product) throw badInput(`Unknown product ${productId}`);
    wanted.set(productId, (wanted.get(productId) ?? 0) + quantity);
    return {
      productId,
      quantity,
      unitPriceCents: product.unitPriceCents,
      lineTotalCents: product.unitPriceCents * quantity,
    };
  });
  const totalCents = lines.reduce((sum, line) => sum + line.lineTotalCents, 0);
  const fits = [...wanted].every(([productId, units]) => stock.get(productId)!.available >= units);
  return { status: fits ? 'CONFIRMED' : 'REJECTED', totalCents, lines, reservations: fits ? wanted : new Map() };
}

/** Product ids in one order, so concurrent transactions take row locks in the same order and never deadlock. */
const lockOrder = (items: OrderLineInput[]) => [...new Set(items.map((item) => item.productId))].sort();

// ---------------------------------------------------------------------------------------------------
// Stores: the same operations on SQLite and on PostgreSQL.

interface Store {
  /** One transaction: idempotency check, stock check, reservation, order, lines and key. */
  placeOrder(userId: string, input: PlaceOrderInput): Promise<Order>;
  seedProducts(count: number, stock: number, unitPriceCents: number): Promise<string[]>;
  products(first: number): Promise<Product[]>;
  orders(first: number, customerId: string | undefined): Promise<Order[]>;
  close(): Promise<void>;
}

const SQLITE_SCHEMA = `
  drop table if exists idempotency_keys;
  drop table if exists order_lines;
  drop table if exists orders;
  drop table if exists products;
  create table products (
    id text primary key,
    sku text not null unique,
    name text not null,
    unit_price_cents integer not null check (unit_price_cents >= 0),
    on_hand integer not null check (on_hand >= 0),
    -- The database refuses an oversell even if the code above it were wrong.
    reserved integer not null default 0 check (reserved >= 0 and reserved <= on_hand)
  ) strict;
  create table orders (
    id text primary key,
    -- The counter behind the order number: max + 1 under the write lock BEGIN IMMEDIATE takes.
    seq integer not null unique,
    number text not null unique,
    status text not null check (status in ('CONFIRMED', 'REJECTED')),
    customer_id text not null,
    user_id text not null,
    total_cents integer not null,
    created_at text not null
  ) strict;
  create index orders_customer_idx on orders (customer_id, seq);
  create table order_lines (
    order_id text not null references orders (id),
    line_no integer not null,
    product_id text not null references products (id),
    quantity integer not null check (quantity > 0),
    unit_price_cents integer not null,
    line_total_cents integer not null,
    primary key (order_id, line_no)
  ) strict, without rowid;
  create index order_lines_product_idx on order_lines (product_id);
  create table idempotency_keys (
    user_id text not null,
    key text not null,
    request_hash text not null,
    order_id text not null references orders (id),
    primary key (user_id, key)
  ) strict, without rowid;
`;

/** Type aliases, not interfaces: only these may be asserted from node:sqlite's `Record<string, SQLOutputValue>`. */
type OrderRow = {
  id: string;
  number: string;
  status: Order['status'];
  customer_id: string;
  total_cents: number | string;
  created_at: string | Date;
};

type ProductRow = {
  id: string;
  sku: string;
  name: string;
  unit_price_cents: number | string;
  available: number;
};

/** PostgreSQL hands bigint columns back as strings (they may not fit a Number); ours always do. */
function toOrder(row: OrderRow): Order {
  const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at;
  const total = formatCents(Number(row.total_cents));
  return { id: row.id, number: row.number, status: row.status, total, customerId: row.customer_id, createdAt };
}

function toProduct(row: ProductRow): Product {
  const unitPrice = formatCents(Number(row.unit_price_cents));
  return { id: row.id, sku: row.sku, name: row.name, unitPrice, available: row.available };
}

const orderNumber = (seq: number) => `SG-${String(seq).padStart(7, '0')}`;

/**
 * node:sqlite is synchronous and this process has one thread, so a transaction runs start to finish
 * without another request's statements in between. BEGIN IMMEDIATE still takes the write lock up
 * front, as it must with any other writer on the file (busy_timeout waits for it), and a failure
 * anywhere rolls everything back.
 */
function openSqliteStore(file: string): Store {
  const db = new DatabaseSync(file);
  db.exec('pragma journal_mode = wal; pragma synchronous = full; pragma busy_timeout = 5000;');
  db.exec(SQLITE_SCHEMA);

  // Prepared once: each call below only binds and steps.
  const findKey = db.prepare('select request_hash, order_id from idempotency_keys where user_id = ? and key = ?');
  const findOrder = db.prepare(
    'select id, number, status, customer_id, total_cents, created_at from orders where id = ?',
  );
  const findStock = db.prepare('select unit_price_cents, on_hand - reserved as available from products where id = ?');
  const reserve = db.prepare('update products set reserved = reserved + ? where id = ?');
  const nextSeq = db.prepare('select coalesce(max(seq), 0) + 1 as seq from orders');
  const insertOrder = db.prepare(
    `insert into orders (id, seq, number, status, customer_id, user_id, total_cents, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertLine = db.prepare(
    `insert into order_lines (order_id, line_no, product_id, quantity, unit_price_cents, line_total_cents)
     values (?, ?, ?, ?, ?, ?)`,
  );
  const insertKey = db.prepare(
    'insert into idempotency_keys (user_id, key, request_hash, order_id) values (?, ?, ?, ?)',
  );
  const productCount = db.prepare('select count(*) as n from products');
  const insertProduct = db.prepare(
    'insert into products (id, sku, name, unit_price_cents, on_hand) values (?, ?, ?, ?, ?)',
  );
  const listProducts = db.prepare(
    'select id, sku, name, unit_price_cents, on_hand - reserved as available from products order by sku limit ?',
  );
  const listOrders = db.prepare(
    'select id, number, status, customer_id, total_cents, created_at from orders order by seq desc limit ?',
  );
  const listCustomerOrders = db.prepare(
    `select id, number, status, customer_id, total_cents, created_at from orders
     where customer_id = ? order by seq desc limit ?`,
  );

  function transaction<T>(work: () => T): T {
    db.exec('begin immediate');
    try {
      const result = work();
      db.exec('commit');
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec('rollback');
      throw error;
    }
  }

  return {
    placeOrder: async (userId, input) =>
      transaction(() => {
        const hash = requestHash(input);
        const key = findKey.get(userId, input.idempotencyKey) as { request_hash: string; order_id: string } | undefined;
        if (key) {
          if (key.request_hash !== hash) throw new CodedError('idempotencyKey was used for another order', 'CONFLICT');
          return toOrder(findOrder.get(key.order_id) as OrderRow);
        }
        const stock = new Map<string, StockRow>();
        for (const productId of lockOrder(input.items)) {
          const row = findStock.get(productId) as { unit_price_cents: number; available: number } | undefined;
          if (row) stock.set(productId, { unitPriceCents: row.unit_price_cents, available: row.available });
        }
        const priced = priceOrder(input.items, stock);
        for (const [productId, units] of priced.reservations) reserve.run(units, productId);
        const id = randomUUID();
        const seq = (nextSeq.get() as { seq: number }).seq;
        const createdAt = new Date().toISOString();
        const order: Order = {
          id,
          number: orderNumber(seq),
          status: priced.status,
          total: formatCents(priced.totalCents),
          customerId: input.customerId,
          createdAt,
        };
        insertOrder.run(id, seq, order.number, order.status, order.customerId, userId, priced.totalCents, createdAt);
        priced.lines.forEach((line, i) =>
          insertLine.run(id, i + 1, line.productId, line.quantity, line.unitPriceCents, line.lineTotalCents),
        );
        insertKey.run(userId, input.idempotencyKey, hash, id);
        return order;
      }),
    seedProducts: async (count, stock, unitPriceCents) =>
      transaction(() => {
        const first = (productCount.get() as { n: number }).n + 1;
        return Array.from({ length: count }, (_, i) => {
          const id = randomUUID();
          const sku = `MONO-${String(first + i).padStart(6, '0')}`;
          insertProduct.run(id, sku, `Product ${sku}`, unitPriceCents, stock);
          return id;
        });
      }),
    products: async (first) => (listProducts.all(first) as ProductRow[]).map(toProduct),
    orders: async (first, customerId) =>
      (
        (customerId === undefined ? listOrders.all(first) : listCustomerOrders.all(customerId, first)) as OrderRow[]
      ).map(toOrder),
    close: async () => db.close(),
  };
}

const POSTGRES_SCHEMA = `
  drop schema if exists monolith cascade;
  create schema monolith;
  create sequence monolith.order_number_seq;
  create sequence monolith.sku_seq;
  create table monolith.products (
    id uuid primary key,
    sku text not null unique,
    name text not null,
    unit_price_cents bigint not null check (unit_price_cents >= 0),
    on_hand integer not null check (on_hand >= 0),
    -- The database refuses an oversell even if the code above it were wrong.
    reserved integer not null default 0 check (reserved >= 0 and reserved <= on_hand)
  );
  create table monolith.orders (
    id uuid primary key,
    number text not null unique,
    status text not null check (status in ('CONFIRMED', 'REJECTED')),
    customer_id uuid not null,
    user_id text not null,
    total_cents bigint not null,
    created_at timestamptz not null default now()
  );
  create index orders_created_idx on monolith.orders (created_at desc);
  create index orders_customer_created_idx on monolith.orders (customer_id, created_at desc);
  create table monolith.order_lines (
    order_id uuid not null references monolith.orders (id),
    line_no smallint not null,
    product_id uuid not null references monolith.products (id),
    quantity integer not null check (quantity > 0),
    unit_price_cents bigint not null,
    line_total_cents bigint not null,
    primary key (order_id, line_no)
  );
  create index order_lines_product_idx on monolith.order_lines (product_id);
  create table monolith.idempotency_keys (
    user_id text not null,
    key text not null,
    request_hash text not null,
    order_id uuid not null references monolith.orders (id),
    created_at timestamptz not null default now(),
    primary key (user_id, key)
  );
`;

/** Two first requests with the same key: the later one's key insert waits for the earlier commit, then fails. */
const isKeyRace = (error: unknown) =>
  error instanceof postgres.PostgresError &&
  error.code === '23505' &&
  error.constraint_name === 'idempotency_keys_pkey';

async function openPostgresStore(url: string): Promise<Store> {
  // Notices (drop … if exists) would otherwise be printed on stdout, which carries only `ready <port>`.
  const sql = postgres(url, { max: 10, onnotice: () => {} });
  await sql.unsafe(POSTGRES_SCHEMA);

  const placeOnce = (userId: string, input: PlaceOrderInput) =>
    sql.begin(async (tx) => {
      const hash = requestHash(input);
      const [key] = await tx<{ request_hash: string; order_id: string }[]>`
        select request_hash, order_id from monolith.idempotency_keys
        where user_id = ${userId} and key = ${input.idempotencyKey}`;
      if (key) {
        if (key.request_hash !== hash) throw new CodedError('idempotencyKey was used for another order', 'CONFLICT');
        const [row] = await tx<OrderRow[]>`
          select id, number, status, customer_id, total_cents, created_at from monolith.orders where id = ${key.order_id}`;
        return toOrder(row!);
      }
      // Locked in id order (the sort happens below the row locks), the same order every transaction uses.
      const rows = await tx<{ id: string; unit_price_cents: string; available: number }[]>`
        select id, unit_price_cents, on_hand - reserved as available from monolith.products
        where id = any(${lockOrder(input.items)}::uuid[]) order by id for update`;
      const stock = new Map(
        rows.map((row) => [row.id, { unitPriceCents: Number(row.unit_price_cents), available: row.available }]),
      );
      const priced = priceOrder(input.items, stock);
      const id = randomUUID();
      const reserved = [...priced.reservations];
      // The writes are sent together (pipelined on this transaction's connection, run in the order
      // sent): one round trip instead of four. A failure in any of them still rolls back all of them,
      // and Promise.all rejects with the first error, the one that caused the rest.
      const [, [order]] = await Promise.all([
        reserved.length === 0
          ? undefined
          : tx`
              update monolith.products p set reserved = p.reserved + r.units
              from unnest(${reserved.map(([productId]) => productId)}::uuid[],
                          ${reserved.map(([, units]) => units)}::int[]) as r(id, units)
              where p.id = r.id`,
        tx<OrderRow[]>`
          insert into monolith.orders (id, number, status, customer_id, user_id, total_cents)
          values (${id}, 'SG-' || lpad(nextval('monolith.order_number_seq')::text, 7, '0'), ${priced.status},
                  ${input.customerId}, ${userId}, ${priced.totalCents})
          returning id, number, status, customer_id, total_cents, created_at`,
        tx`insert into monolith.order_lines ${tx(
          priced.lines.map((line, i) => ({
            order_id: id,
            line_no: i + 1,
            product_id: line.productId,
            quantity: line.quantity,
            unit_price_cents: line.unitPriceCents,
            line_total_cents: line.lineTotalCents,
          })),
        )}`,
        tx`insert into monolith.idempotency_keys ${tx({
          user_id: userId,
          key: input.idempotencyKey,
          request_hash: hash,
          order_id: id,
        })}`,
      ]);
      return toOrder(order!);
    });

  return {
    placeOrder: async (userId, input) => {
      try {
        return await placeOnce(userId, input);
      } catch (error) {
        // Run again, it now finds the other request's key: the same order, or CONFLICT.
        if (isKeyRace(error)) return placeOnce(userId, input);
        throw error;
      }
    },
    seedProducts: async (count, stock, unitPriceCents) => {
      const ids = Array.from({ length: count }, () => randomUUID());
      await sql`
        insert into monolith.products (id, sku, name, unit_price_cents, on_hand)
        select id, sku, 'Product ' || sku, ${unitPriceCents}, ${stock}
        from (select id, 'MONO-' || lpad(nextval('monolith.sku_seq')::text, 6, '0') as sku
              from unnest(${ids}::uuid[]) with ordinality as t(id, n) order by n) as numbered`;
      return ids;
    },
    products: async (first) =>
      (
        await sql<ProductRow[]>`
          select id, sku, name, unit_price_cents, on_hand - reserved as available
          from monolith.products order by sku limit ${first}`
      ).map(toProduct),
    // Two statements rather than `$1 is null or customer_id = $1`, so each keeps its own index plan.
    orders: async (first, customerId) =>
      (customerId === undefined
        ? await sql<OrderRow[]>`
            select id, number, status, customer_id, total_cents, created_at from monolith.orders
            order by created_at desc limit ${first}`
        : await sql<OrderRow[]>`
            select id, number, status, customer_id, total_cents, created_at from monolith.orders
            where customer_id = ${customerId} order by created_at desc limit ${first}`
      ).map(toOrder),
    close: () => sql.end({ timeout: 5 }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Resolvers: validate the arguments, then one store call.

interface Context {
  userId: string;
  store: Store;
}

const rootValue = {
  products: async (args: { first: number }, { store }: Context) => ({
    edges: (await store.products(count(args.first, 'first', 1000))).map((node) => ({ node })),
  }),
  orders: async (args: { first: number; filter?: { customerId?: string | null } | null }, { store }: Context) => {
    const customerId = args.filter?.customerId;
    const orders = await store.orders(
      count(args.first, 'first', 1000),
      customerId == null ? undefined : uuid(customerId, 'filter.customerId'),
    );
    return { edges: orders.map((node) => ({ node })) };
  },
  placeOrder: async ({ input }: { input: PlaceOrderInput }, { store, userId }: Context) => {
    count(input.items.length, 'items', 50);
    if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 200)
      throw badInput('idempotencyKey must be 1 to 200 characters');
    return store.placeOrder(userId, {
      customerId: uuid(input.customerId, 'customerId'),
      items: input.items.map((item, i) => ({
        productId: uuid(item.productId, `items[${i}].productId`),
        quantity: count(item.quantity, `items[${i}].quantity`, 1000),
      })),
      idempotencyKey: input.idempotencyKey,
    });
  },
  seedProducts: async (args: { count: number; stock: number; unitPrice: string }, { store }: Context) => {
    if (args.stock < 0 || args.stock > 1_000_000) throw badInput('stock must be between 0 and 1000000');
    return store.seedProducts(count(args.count, 'count', 10_000), args.stock, parseCents(args.unitPrice));
  },
};

// ---------------------------------------------------------------------------------------------------
// HTTP

/** Parsed and validated documents by query text: a client sends the same few documents over and over. */
class DocumentCache {
  private readonly entries = new Map<string, DocumentNode>();

  constructor(private readonly capacity: number) {}

  get(query: string): DocumentNode | undefined {
    const document = this.entries.get(query);
    if (document) {
      // A Map iterates in insertion order: re-inserting makes this the most recently used.
      this.entries.delete(query);
      this.entries.set(query, document);
    }
    return document;
  }

  set(query: string, document: DocumentNode): void {
    this.entries.set(query, document);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

const MAX_BODY_BYTES = 1 << 20;

type ErrorJson = { message: string; extensions: { code: ErrorCode } } & Record<string, unknown>;

const errorJson = (message: string, code: ErrorCode): ErrorJson => ({ message, extensions: { code } });

/**
 * What a client may see of an error. Coded errors pass as they are. Errors without a path were raised
 * before any resolver ran (variables that do not match their types): the request's fault. Any other
 * error is a bug or a database failure: logged here, and only its code leaves the process.
 */
function formatError(error: GraphQLError): ErrorJson {
  const json = error.toJSON() as ErrorJson;
  const code = error.extensions.code;
  if (typeof code === 'string') return json;
  if (error.path === undefined) return { ...json, extensions: { code: 'BAD_USER_INPUT' } };
  process.stderr.write(`monolith: ${(error.originalError ?? error).stack}\n`);
  return { message: 'Internal server error', path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface GraphQLRequest {
  query: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

function parseRequest(text: string): GraphQLRequest | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { query, variables, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  return {
    query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: operationName ?? undefined,
  };
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

async function loadPublicKey(): Promise<VerifyKey> {
  const text = process.env.MONOLITH_PUBLIC_JWK;
  if (!text) throw new Error('MONOLITH_PUBLIC_JWK (the ES256 public key as a JSON JWK) is not set');
  const jwk = JSON.parse(text) as JWK;
  // A private JWK would import as a private key, which can only sign: refuse it here, not on every request.
  if ('d' in jwk) throw new Error('MONOLITH_PUBLIC_JWK holds a private key; give the public half');
  return importJWK(jwk, 'ES256');
}

function createHandler(store: Store, publicKey: VerifyKey) {
  const schema = buildSchema(SDL);
  const documents = new DocumentCache(500);

  /** The user the bearer token names, or undefined when there is no valid token. */
  async function authenticate(req: IncomingMessage): Promise<string | undefined> {
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1]!, publicKey, { algorithms: ['ES256'] });
      return typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/graphql') return send(res, 404, { errors: [errorJson('Not found', 'BAD_USER_INPUT')] });
    if (req.method !== 'POST')
      return send(res, 405, { errors: [errorJson('Use POST', 'BAD_USER_INPUT')] }, { allow: 'POST' });

    const userId = await authenticate(req);
    if (userId === undefined)
      return send(
        res,
        401,
        { errors: [errorJson('A valid bearer token is required', 'UNAUTHENTICATED')] },
        { 'www-authenticate': 'Bearer' },
      );

    const text = await readBody(req);
    if (text === undefined) return send(res, 413, { errors: [errorJson('Request body too large', 'BAD_USER_INPUT')] });
    const request = parseRequest(text);
    if (!request)
      return send(res, 400, {
        errors: [errorJson('Expected a JSON body {query, variables?, operationName?}', 'BAD_USER_INPUT')],
      });

    let document = documents.get(request.query);
    if (!document) {
      try {
        document = parse(request.query);
      } catch (error) {
        const message = error instanceof GraphQLError ? error.message : 'Syntax error';
        return send(res, 400, { errors: [errorJson(message, 'BAD_USER_INPUT')] });
      }
      const invalid = validate(schema, document);
      if (invalid.length > 0)
        return send(res, 400, { errors: invalid.map((error) => errorJson(error.message, 'BAD_USER_INPUT')) });
      // Only valid documents are kept, so a stream of bad ones cannot evict the good.
      documents.set(request.query, document);
    }

    const context: Context = { userId, store };
    const result = await execute({
      schema,
      document,
      rootValue,
      contextValue: context,
      variableValues: request.variables,
      operationName: request.operationName,
    });
    const body = result.errors ? { data: result.data, errors: result.errors.map(formatError) } : { data: result.data };
    // No data at all means the request was refused before execution (its variables, its operation name).
    send(res, result.data === undefined ? 400 : 200, body);
  };
}

// ---------------------------------------------------------------------------------------------------
// Start and stop

async function main(): Promise<void> {
  const config = parseCommandLine();
  let publicKey;
  try {
    publicKey = await loadPublicKey();
  } catch (error) {
    process.stderr.write(`monolith: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }

  // Without --file, a fresh file in a directory of its own (WAL adds two files beside it), removed on exit.
  const scratch = config.store === 'sqlite' && !config.file ? mkdtempSync(join(tmpdir(), 'monolith-')) : undefined;
  const store =
    config.store === 'sqlite'
      ? openSqliteStore(config.file ?? join(scratch!, 'monolith.db'))
      : await openPostgresStore(config.databaseUrl);

  const handle = createHandler(store, publicKey);
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The client hung up mid-request (a load generator stopping does): no one to answer, nothing wrong here.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      process.stderr.write(`monolith: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!res.headersSent) send(res, 500, { errors: [errorJson('Internal server error', 'INTERNAL_SERVER_ERROR')] });
      else res.destroy();
    });
  });
  server.on('error', (error) => {
    process.stderr.write(`monolith: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(config.port, () => {
    process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Finish the requests in flight, then close the database; a keep-alive client gets 2 s to go away.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 2000);
    await closed;
    clearTimeout(force);
    await store.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

await main();
