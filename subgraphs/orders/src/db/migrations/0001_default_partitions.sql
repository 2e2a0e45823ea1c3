-- Rows whose month has no partition land here instead of failing the insert. Monthly partitions are
-- created ahead at start-up and on a timer (packages/db partitions.ts); rows here mean that lagged.
CREATE TABLE IF NOT EXISTS "orders"."orders_default" PARTITION OF "orders"."orders" DEFAULT;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "orders"."order_items_default" PARTITION OF "orders"."order_items" DEFAULT;
