-- The aggregates describe the live tables only. `stockgraph partitions archive` subtracts each month from
-- them (orders.aggregates_forget) in the transaction that detaches it, so a live list's totalCount agrees
-- with the pages a client can reach; `archived: true` reads count the archive's rows themselves.
-- Functions are replaced, never edited in 0004/0005: a database migrated before keeps the same names.

-- The raw rows every aggregate stands for: the live tables, whatever the archive holds.
CREATE OR REPLACE FUNCTION "orders"."aggregates_raw"(kind text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF kind = 'orders' THEN
    RETURN 'orders.orders';
  ELSIF kind = 'items' THEN
    RETURN 'orders.order_items';
  END IF;
  RAISE EXCEPTION 'aggregates_raw: unknown kind %', kind USING ERRCODE = 'invalid_parameter_value';
END $$;
--> statement-breakpoint
-- Recomputes every aggregate from the live rows in the caller's transaction. SHARE locks let reads go on
-- and make writers (and an archive run, which detaches) wait until the transaction ends, so no write or
-- detach falls between the scan and the commit.
CREATE OR REPLACE FUNCTION "orders"."aggregates_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE orders.orders, orders.order_items IN SHARE MODE;
  -- DELETE, not TRUNCATE: readers keep the old figures until this commits instead of waiting on the lock.
  DELETE FROM orders.order_daily_totals;
  DELETE FROM orders.order_status_totals;
  DELETE FROM orders.customer_order_totals;
  DELETE FROM orders.product_daily_units;
  DELETE FROM orders.product_units;
  PERFORM orders.aggregates_apply(orders.aggregates_raw('orders'), orders.aggregates_raw('items'), 1);
END $$;
--> statement-breakpoint
-- When a month leaves the live tables: its orders (`rows`, the columns of orders.orders) and their items
-- (`items`, the columns of orders.order_items) leave every aggregate, as if deleted. `partitions archive`
-- calls it in the transaction that detaches them; `partitions drop` does not (they were forgotten then).
CREATE OR REPLACE FUNCTION "orders"."aggregates_forget"("rows" regclass, "items" regclass)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('LOCK TABLE %s, %s IN SHARE MODE', $1, $2);
  PERFORM orders.aggregates_apply($1::text, $2::text, -1);
  DELETE FROM orders.order_daily_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.order_status_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.customer_order_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.product_daily_units WHERE units = 0;
  DELETE FROM orders.product_units WHERE units = 0;
END $$;
--> statement-breakpoint
-- orders.aggregates_check() compares with orders.aggregates_raw(), so it now checks the live rows as well.
-- A database that archived under 0005 still counts its archive (or part of it): recomputed from live rows.
SELECT "orders"."aggregates_rebuild"();
