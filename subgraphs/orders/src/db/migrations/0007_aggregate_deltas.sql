CREATE TABLE "orders"."order_total_deltas" (
	"day" date NOT NULL,
	"status" "orders"."order_status" NOT NULL,
	"slot" smallint NOT NULL,
	"customer_id" uuid NOT NULL,
	"order_count" integer NOT NULL,
	"total" numeric(18, 2) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."product_unit_deltas" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"units" bigint NOT NULL
);
--> statement-breakpoint
-- Deltas come and go every second: vacuum them often, so readers' scans of them stay short.
ALTER TABLE "orders"."order_total_deltas" SET (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);
--> statement-breakpoint
ALTER TABLE "orders"."product_unit_deltas" SET (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);
--> statement-breakpoint
-- The triggers of 0005 call these two for every change; they now append it instead of updating the totals
-- in place, where concurrent orders queued on today's row, the status row and the customer's row.
CREATE OR REPLACE FUNCTION "orders"."aggregates_add_order"(
  o_id uuid, o_created_at timestamptz, o_customer_id uuid, o_status "orders"."order_status", o_total numeric, sign integer
) RETURNS void LANGUAGE sql AS $$
  INSERT INTO orders.order_total_deltas (day, status, slot, customer_id, order_count, total)
  VALUES ((o_created_at AT TIME ZONE 'UTC')::date, o_status, orders.aggregate_slot(o_id), o_customer_id, sign, sign * o_total)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "orders"."aggregates_add_units"(p_product_id uuid, p_created_at timestamptz, p_units bigint)
  RETURNS void LANGUAGE sql AS $$
  INSERT INTO orders.product_unit_deltas (product_id, day, units)
  VALUES (p_product_id, (p_created_at AT TIME ZONE 'UTC')::date, p_units)
$$;
--> statement-breakpoint
-- What readers read: the folded totals and the deltas not folded yet, one row each; readers sum by key.
CREATE VIEW "orders"."order_daily_totals_current" AS
  SELECT day, status, slot, order_count, total FROM orders.order_daily_totals
  UNION ALL SELECT day, status, slot, order_count, total FROM orders.order_total_deltas;
--> statement-breakpoint
CREATE VIEW "orders"."order_status_totals_current" AS
  SELECT status, slot, order_count, total FROM orders.order_status_totals
  UNION ALL SELECT status, slot, order_count, total FROM orders.order_total_deltas;
--> statement-breakpoint
CREATE VIEW "orders"."customer_order_totals_current" AS
  SELECT customer_id, status, slot, order_count, total FROM orders.customer_order_totals
  UNION ALL SELECT customer_id, status, slot, order_count, total FROM orders.order_total_deltas;
--> statement-breakpoint
CREATE VIEW "orders"."product_daily_units_current" AS
  SELECT product_id, day, units FROM orders.product_daily_units
  UNION ALL SELECT product_id, day, units FROM orders.product_unit_deltas;
--> statement-breakpoint
CREATE VIEW "orders"."product_units_current" AS
  SELECT product_id, units FROM orders.product_units
  UNION ALL SELECT product_id, units FROM orders.product_unit_deltas;
--> statement-breakpoint
-- Moves every delta into the totals in one transaction and returns how many it moved. One folder at a
-- time (the advisory lock; a second caller moves nothing): two folding at once could deadlock on the
-- totals' rows. Deleting and adding in one statement means a delta is counted in exactly one place.
CREATE FUNCTION "orders"."aggregates_fold"() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  order_deltas integer := 0;
  unit_deltas integer := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('orders.aggregates_fold')) THEN
    RETURN 0;
  END IF;
  WITH d AS (
    DELETE FROM orders.order_total_deltas RETURNING day, status, slot, customer_id, order_count, total
  ), per_day AS (
    SELECT day, status, slot, sum(order_count) AS order_count, sum(total) AS total FROM d GROUP BY 1, 2, 3
  ), daily AS (
    INSERT INTO orders.order_daily_totals AS t (day, status, slot, order_count, total)
    SELECT day, status, slot, order_count, total FROM per_day ORDER BY 1, 2, 3
    ON CONFLICT (day, status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
  ), statuses AS (
    INSERT INTO orders.order_status_totals AS t (status, slot, order_count, total)
    SELECT status, slot, sum(order_count), sum(total) FROM per_day GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
  ), customers AS (
    INSERT INTO orders.customer_order_totals AS t (customer_id, status, slot, order_count, total)
    SELECT customer_id, status, slot, sum(order_count), sum(total) FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
  )
  SELECT count(*) INTO order_deltas FROM d;
  WITH d AS (
    DELETE FROM orders.product_unit_deltas RETURNING product_id, day, units
  ), per_day AS (
    SELECT product_id, day, sum(units) AS units FROM d GROUP BY 1, 2
  ), daily AS (
    INSERT INTO orders.product_daily_units AS t (product_id, day, units)
    SELECT product_id, day, units FROM per_day ORDER BY 1, 2
    ON CONFLICT (product_id, day) DO UPDATE SET units = t.units + excluded.units
  ), products AS (
    INSERT INTO orders.product_units AS t (product_id, units)
    SELECT product_id, sum(units) FROM per_day GROUP BY 1 ORDER BY 1
    ON CONFLICT (product_id) DO UPDATE SET units = t.units + excluded.units
  )
  SELECT count(*) INTO unit_deltas FROM d;
  RETURN order_deltas + unit_deltas;
END $$;
--> statement-breakpoint
-- A rebuild recomputes the totals from the rows, so the deltas they already count go too. It and the
-- archive's forget take the folder's lock: they update the same total rows, and a fold meanwhile could
-- deadlock with them.
CREATE OR REPLACE FUNCTION "orders"."aggregates_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('orders.aggregates_fold'));
  LOCK TABLE orders.orders, orders.order_items IN SHARE MODE;
  -- DELETE, not TRUNCATE: readers keep the old figures until this commits instead of waiting on the lock.
  DELETE FROM orders.order_total_deltas;
  DELETE FROM orders.product_unit_deltas;
  DELETE FROM orders.order_daily_totals;
  DELETE FROM orders.order_status_totals;
  DELETE FROM orders.customer_order_totals;
  DELETE FROM orders.product_daily_units;
  DELETE FROM orders.product_units;
  PERFORM orders.aggregates_apply(orders.aggregates_raw('orders'), orders.aggregates_raw('items'), 1);
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "orders"."aggregates_forget"("rows" regclass, "items" regclass)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('orders.aggregates_fold'));
  EXECUTE format('LOCK TABLE %s, %s IN SHARE MODE', $1, $2);
  PERFORM orders.aggregates_apply($1::text, $2::text, -1);
  DELETE FROM orders.order_daily_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.order_status_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.customer_order_totals WHERE order_count = 0 AND total = 0;
  DELETE FROM orders.product_daily_units WHERE units = 0;
  DELETE FROM orders.product_units WHERE units = 0;
END $$;
--> statement-breakpoint
-- The check compares the rows with the totals plus the deltas not folded yet.
CREATE OR REPLACE FUNCTION "orders"."aggregates_check"()
  RETURNS TABLE (aggregate text, key text, expected text, stored text) LANGUAGE plpgsql AS $$
DECLARE
  order_rows text := orders.aggregates_raw('orders');
  item_rows text := orders.aggregates_raw('items');
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH e AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, orders.aggregate_slot(id) AS slot,
        count(*) AS n, sum(total) AS total
      FROM %1$s r GROUP BY 1, 2, 3
    ), daily AS (
      SELECT 'orders.order_daily_totals'::text AS aggregate,
        'day=' || coalesce(e.day, s.day) || ' status=' || coalesce(e.status, s.status) || ' slot='
          || coalesce(e.slot, s.slot) AS key,
        coalesce(e.n, 0) || ' orders, total ' || coalesce(e.total, 0)::numeric(18, 2) AS expected,
        coalesce(s.order_count, 0) || ' orders, total ' || coalesce(s.total, 0)::numeric(18, 2) AS stored
      FROM e FULL JOIN (SELECT day, status, slot, sum(order_count) AS order_count, sum(total) AS total
        FROM orders.order_daily_totals_current GROUP BY 1, 2, 3) s ON s.day = e.day AND s.status = e.status AND s.slot = e.slot
      WHERE coalesce(e.n, 0) <> coalesce(s.order_count, 0) OR coalesce(e.total, 0) <> coalesce(s.total, 0)
    ), per_status AS (
      SELECT status, slot, sum(n) AS n, sum(total) AS total FROM e GROUP BY 1, 2
    ), statuses AS (
      SELECT 'orders.order_status_totals'::text,
        'status=' || coalesce(e.status, s.status) || ' slot=' || coalesce(e.slot, s.slot),
        coalesce(e.n, 0) || ' orders, total ' || coalesce(e.total, 0)::numeric(18, 2),
        coalesce(s.order_count, 0) || ' orders, total ' || coalesce(s.total, 0)::numeric(18, 2)
      FROM per_status e FULL JOIN (SELECT status, slot, sum(order_count) AS order_count, sum(total) AS total
        FROM orders.order_status_totals_current GROUP BY 1, 2) s ON s.status = e.status AND s.slot = e.slot
      WHERE coalesce(e.n, 0) <> coalesce(s.order_count, 0) OR coalesce(e.total, 0) <> coalesce(s.total, 0)
    )
    SELECT * FROM daily UNION ALL SELECT * FROM statuses ORDER BY 1, 2
  $q$, order_rows);
  RETURN QUERY EXECUTE format($q$
    WITH e AS (
      SELECT customer_id, status, orders.aggregate_slot(id) AS slot, count(*) AS n, sum(total) AS total
      FROM %1$s r GROUP BY 1, 2, 3
    )
    SELECT 'orders.customer_order_totals'::text,
      'customer=' || coalesce(e.customer_id, s.customer_id) || ' status=' || coalesce(e.status, s.status)
        || ' slot=' || coalesce(e.slot, s.slot),
      coalesce(e.n, 0) || ' orders, total ' || coalesce(e.total, 0)::numeric(18, 2),
      coalesce(s.order_count, 0) || ' orders, total ' || coalesce(s.total, 0)::numeric(18, 2)
    FROM e FULL JOIN (SELECT customer_id, status, slot, sum(order_count) AS order_count, sum(total) AS total
      FROM orders.customer_order_totals_current GROUP BY 1, 2, 3) s
      ON s.customer_id = e.customer_id AND s.status = e.status AND s.slot = e.slot
    WHERE coalesce(e.n, 0) <> coalesce(s.order_count, 0) OR coalesce(e.total, 0) <> coalesce(s.total, 0)
    ORDER BY 2
  $q$, order_rows);
  RETURN QUERY EXECUTE format($q$
    WITH e AS (
      SELECT i.product_id, (i.created_at AT TIME ZONE 'UTC')::date AS day, sum(i.quantity) AS units
      FROM %1$s i JOIN %2$s o ON o.id = i.order_id AND o.created_at = i.created_at
      WHERE o.status = 'FULFILLED' GROUP BY 1, 2
    ), daily AS (
      SELECT 'orders.product_daily_units'::text AS aggregate,
        'product=' || coalesce(e.product_id, s.product_id) || ' day=' || coalesce(e.day, s.day) AS key,
        coalesce(e.units, 0) || ' units' AS expected, coalesce(s.units, 0) || ' units' AS stored
      FROM e FULL JOIN (SELECT product_id, day, sum(units) AS units FROM orders.product_daily_units_current GROUP BY 1, 2) s ON s.product_id = e.product_id AND s.day = e.day
      WHERE coalesce(e.units, 0) <> coalesce(s.units, 0)
    ), per_product AS (
      SELECT product_id, sum(units) AS units FROM e GROUP BY 1
    ), products AS (
      SELECT 'orders.product_units'::text, 'product=' || coalesce(e.product_id, s.product_id),
        coalesce(e.units, 0) || ' units', coalesce(s.units, 0) || ' units'
      FROM per_product e FULL JOIN (SELECT product_id, sum(units) AS units FROM orders.product_units_current GROUP BY 1) s ON s.product_id = e.product_id
      WHERE coalesce(e.units, 0) <> coalesce(s.units, 0)
    )
    SELECT * FROM daily UNION ALL SELECT * FROM products ORDER BY 1, 2
  $q$, item_rows, order_rows);
END $$;
