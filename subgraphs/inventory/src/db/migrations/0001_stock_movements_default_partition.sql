-- Rows whose month has no partition land here instead of failing the insert. Monthly partitions are
-- created ahead at start-up and on a timer (packages/db partitions.ts); rows here mean that lagged.
CREATE TABLE IF NOT EXISTS "inventory"."stock_movements_default" PARTITION OF "inventory"."stock_movements" DEFAULT;
