-- Vendored from the shared legacy-store specification (legacy/schema.sql beside DESIGN.md), unchanged below
-- this note: `import make-legacy` writes exactly this schema, and `import sqlite` checks files against it.
-- The legacy store Stockgraph imports from: the single SQLite database of the inventory system the
-- seed report starts from (phase 1, "SQLite to PostgreSQL"). This is the schema as it exists in the
-- field; real files also carry the dirty data listed in README.md beside this file.
PRAGMA foreign_keys = OFF;  -- the legacy application never turned them on

CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  username      TEXT NOT NULL UNIQUE,
  email         TEXT,                         -- may be NULL, mixed case, or duplicated across users
  password_hash TEXT NOT NULL,                -- 'sha256$<salt>$<hex of sha256(salt || password)>'
  role          TEXT NOT NULL,                -- 'admin' | 'manager' | 'clerk' | 'readonly'
  is_active     INTEGER NOT NULL DEFAULT 1,   -- 0 | 1
  created_at    TEXT NOT NULL                 -- 'YYYY-MM-DD HH:MM:SS', shop-local time (see README)
);

CREATE TABLE products (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  sku           TEXT NOT NULL,                -- meant to be unique; not enforced (see README)
  name          TEXT NOT NULL,
  category      TEXT,
  description   TEXT,
  price         REAL NOT NULL,                -- selling price, a binary float (19.9 is 19.899999…)
  cost          REAL,                         -- purchase cost, NULL when unknown
  stock         INTEGER NOT NULL DEFAULT 0,   -- units on hand as the application last wrote it
  reorder_level INTEGER,
  created_at    TEXT NOT NULL,
  updated_at    TEXT
);
CREATE INDEX idx_products_sku ON products(sku);

CREATE TABLE customers (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  phone         TEXT,                         -- free text: '138 0013 8000', '+86-138-0013-8000', '', NULL
  email         TEXT,
  address       TEXT,
  created_at    TEXT NOT NULL
);
CREATE INDEX idx_customers_phone ON customers(phone);

CREATE TABLE orders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id   INTEGER,                      -- may point at a deleted customer
  status        TEXT NOT NULL,                -- 'pending' | 'paid' | 'shipped' | 'completed' | 'cancelled' | 'refunded'
  total         REAL NOT NULL,                -- as the application computed it; may disagree with the items
  created_by    INTEGER,                      -- users.id, NULL for orders from the old web shop
  created_at    TEXT NOT NULL,
  updated_at    TEXT
);
CREATE INDEX idx_orders_customer ON orders(customer_id, created_at);

CREATE TABLE order_items (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id      INTEGER NOT NULL,             -- may point at a deleted order
  product_id    INTEGER NOT NULL,             -- may point at a deleted product
  quantity      INTEGER NOT NULL,             -- should be > 0
  unit_price    REAL NOT NULL
);
CREATE INDEX idx_order_items_order ON order_items(order_id, product_id);

CREATE TABLE inventory_log (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  product_id    INTEGER NOT NULL,
  change        INTEGER NOT NULL,             -- signed units: +receipt, -sale, +/-adjustment, +return
  reason        TEXT NOT NULL,                -- 'purchase' | 'sale' | 'adjust' | 'return' | 'stocktake'
  ref_order_id  INTEGER,                      -- the order for 'sale' and 'return'
  note          TEXT,
  created_at    TEXT NOT NULL
);
CREATE INDEX idx_inventory_log_product ON inventory_log(product_id, created_at);
