-- The aggregates of 0004 follow every write in the writer's own transaction: row triggers on orders and
-- order_items, so the saga, cancel and fulfil, imports and hand-written SQL all keep them exact. Bulk loads
-- with session_replication_role = replica skip the triggers and must end with orders.aggregates_rebuild()
-- (`pnpm stockgraph aggregates rebuild`); `aggregates check` finds what such a load left behind.

-- The order id's last byte is random in a UUIDv7 and the same on every PostgreSQL version (hashtext is not).
CREATE FUNCTION "orders"."aggregate_slot"(id uuid) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (get_byte(uuid_send(id), 15) & 7)::smallint $$;
--> statement-breakpoint
CREATE FUNCTION "orders"."aggregates_add_order"(
  o_id uuid, o_created_at timestamptz, o_customer_id uuid, o_status "orders"."order_status", o_total numeric, sign integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  o_slot smallint := orders.aggregate_slot(o_id);
BEGIN
  INSERT INTO orders.order_daily_totals AS t (day, status, slot, order_count, total)
    VALUES ((o_created_at AT TIME ZONE 'UTC')::date, o_status, o_slot, sign, sign * o_total)
    ON CONFLICT (day, status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total;
  INSERT INTO orders.order_status_totals AS t (status, slot, order_count, total)
    VALUES (o_status, o_slot, sign, sign * o_total)
    ON CONFLICT (status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total;
  INSERT INTO orders.customer_order_totals AS t (customer_id, status, slot, order_count, total)
    VALUES (o_customer_id, o_status, o_slot, sign, sign * o_total)
    ON CONFLICT (customer_id, status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total;
END $$;
--> statement-breakpoint
CREATE FUNCTION "orders"."aggregates_add_units"(p_product_id uuid, p_created_at timestamptz, p_units bigint)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO orders.product_daily_units AS t (product_id, day, units)
    VALUES (p_product_id, (p_created_at AT TIME ZONE 'UTC')::date, p_units)
    ON CONFLICT (product_id, day) DO UPDATE SET units = t.units + excluded.units;
  INSERT INTO orders.product_units AS t (product_id, units)
    VALUES (p_product_id, p_units)
    ON CONFLICT (product_id) DO UPDATE SET units = t.units + excluded.units;
END $$;
--> statement-breakpoint
-- Rows are taken away before they are added: a status change locks the old status's row first, and
-- statuses only move forward (PENDING → CONFIRMED → FULFILLED …), so two transactions never wait on
-- each other in a cycle.
CREATE FUNCTION "orders"."aggregates_on_order"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  item record;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.total = NEW.total AND OLD.customer_id = NEW.customer_id
     AND OLD.created_at = NEW.created_at THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM orders.aggregates_add_order(OLD.id, OLD.created_at, OLD.customer_id, OLD.status, OLD.total, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM orders.aggregates_add_order(NEW.id, NEW.created_at, NEW.customer_id, NEW.status, NEW.total, 1);
  END IF;
  -- Units sold move when an order enters or leaves FULFILLED; inserted items are counted by their own trigger.
  IF TG_OP = 'UPDATE' AND (OLD.status = 'FULFILLED') <> (NEW.status = 'FULFILLED') THEN
    FOR item IN
      SELECT product_id, quantity FROM orders.order_items
      WHERE order_id = NEW.id AND created_at = NEW.created_at ORDER BY product_id
    LOOP
      PERFORM orders.aggregates_add_units(item.product_id, NEW.created_at,
        CASE WHEN NEW.status = 'FULFILLED' THEN item.quantity ELSE -item.quantity END);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Deleting a fulfilled order takes its units away BEFORE the row goes: its items are deleted by the
-- foreign key's cascade afterwards, when their own trigger can no longer see the order's status.
CREATE FUNCTION "orders"."aggregates_on_order_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  item record;
BEGIN
  IF OLD.status = 'FULFILLED' THEN
    FOR item IN
      SELECT product_id, quantity FROM orders.order_items
      WHERE order_id = OLD.id AND created_at = OLD.created_at ORDER BY product_id
    LOOP
      PERFORM orders.aggregates_add_units(item.product_id, OLD.created_at, -item.quantity);
    END LOOP;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
-- An item counts while its order is FULFILLED; an item whose order is gone was counted off by the order's delete.
CREATE FUNCTION "orders"."aggregates_on_item"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND EXISTS (
    SELECT 1 FROM orders.orders WHERE id = OLD.order_id AND created_at = OLD.created_at AND status = 'FULFILLED'
  ) THEN
    PERFORM orders.aggregates_add_units(OLD.product_id, OLD.created_at, -OLD.quantity);
  END IF;
  IF TG_OP <> 'DELETE' AND EXISTS (
    SELECT 1 FROM orders.orders WHERE id = NEW.order_id AND created_at = NEW.created_at AND status = 'FULFILLED'
  ) THEN
    PERFORM orders.aggregates_add_units(NEW.product_id, NEW.created_at, NEW.quantity);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "orders_aggregates" AFTER INSERT OR DELETE OR UPDATE OF status, total, customer_id, created_at
  ON "orders"."orders" FOR EACH ROW EXECUTE FUNCTION "orders"."aggregates_on_order"();
--> statement-breakpoint
CREATE TRIGGER "orders_aggregates_delete" BEFORE DELETE
  ON "orders"."orders" FOR EACH ROW EXECUTE FUNCTION "orders"."aggregates_on_order_delete"();
--> statement-breakpoint
CREATE TRIGGER "order_items_aggregates" AFTER INSERT OR DELETE OR UPDATE OF product_id, quantity, order_id, created_at
  ON "orders"."order_items" FOR EACH ROW EXECUTE FUNCTION "orders"."aggregates_on_item"();
--> statement-breakpoint
-- The raw rows every aggregate stands for: live orders, plus the partition-lifecycle archive while it exists.
CREATE FUNCTION "orders"."aggregates_raw"(kind text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF kind = 'orders' THEN
    RETURN CASE WHEN to_regclass('orders_archive.orders') IS NULL THEN 'orders.orders'
      ELSE '(SELECT id, created_at, customer_id, status, total FROM orders.orders UNION ALL '
        || 'SELECT id, created_at, customer_id, status, total FROM orders_archive.orders)' END;
  END IF;
  RETURN CASE WHEN to_regclass('orders_archive.order_items') IS NULL THEN 'orders.order_items'
    ELSE '(SELECT order_id, created_at, product_id, quantity FROM orders.order_items UNION ALL '
      || 'SELECT order_id, created_at, product_id, quantity FROM orders_archive.order_items)' END;
END $$;
--> statement-breakpoint
-- Adds (sign 1) or subtracts (sign -1) the orders of `order_rows` and the items of `item_rows` (table names
-- or parenthesised queries of the same columns) to every aggregate, set-based: one scan of the orders for
-- the daily, status and customer totals, one join of items to orders for the units.
CREATE FUNCTION "orders"."aggregates_apply"(order_rows text, item_rows text, sign integer)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($q$
    WITH per_day AS (
      SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, orders.aggregate_slot(id) AS slot,
        %1$s * count(*) AS order_count, %1$s * sum(total) AS total
      FROM %2$s r GROUP BY 1, 2, 3
    ), daily AS (
      INSERT INTO orders.order_daily_totals AS t (day, status, slot, order_count, total)
      SELECT day, status, slot, order_count, total FROM per_day
      ON CONFLICT (day, status, slot)
      DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
    )
    INSERT INTO orders.order_status_totals AS t (status, slot, order_count, total)
    SELECT status, slot, sum(order_count), sum(total) FROM per_day GROUP BY 1, 2
    ON CONFLICT (status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
  $q$, sign, order_rows);
  EXECUTE format($q$
    INSERT INTO orders.customer_order_totals AS t (customer_id, status, slot, order_count, total)
    SELECT customer_id, status, orders.aggregate_slot(id), %1$s * count(*), %1$s * sum(total)
    FROM %2$s r GROUP BY 1, 2, 3
    ON CONFLICT (customer_id, status, slot)
    DO UPDATE SET order_count = t.order_count + excluded.order_count, total = t.total + excluded.total
  $q$, sign, order_rows);
  EXECUTE format($q$
    WITH per_day AS (
      SELECT i.product_id, (i.created_at AT TIME ZONE 'UTC')::date AS day, %1$s * sum(i.quantity) AS units
      FROM %2$s i JOIN %3$s o ON o.id = i.order_id AND o.created_at = i.created_at
      WHERE o.status = 'FULFILLED' GROUP BY 1, 2
    ), daily AS (
      INSERT INTO orders.product_daily_units AS t (product_id, day, units)
      SELECT product_id, day, units FROM per_day
      ON CONFLICT (product_id, day) DO UPDATE SET units = t.units + excluded.units
    )
    INSERT INTO orders.product_units AS t (product_id, units)
    SELECT product_id, sum(units) FROM per_day GROUP BY 1
    ON CONFLICT (product_id) DO UPDATE SET units = t.units + excluded.units
  $q$, sign, item_rows, order_rows);
END $$;
--> statement-breakpoint
-- Recomputes every aggregate from the raw rows in the caller's transaction. SHARE locks let reads go on
-- and make writers wait until the transaction ends, so no write falls between the scan and the commit.
CREATE FUNCTION "orders"."aggregates_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE orders.orders, orders.order_items IN SHARE MODE;
  IF to_regclass('orders_archive.orders') IS NOT NULL THEN
    EXECUTE 'LOCK TABLE orders_archive.orders IN SHARE MODE';
  END IF;
  IF to_regclass('orders_archive.order_items') IS NOT NULL THEN
    EXECUTE 'LOCK TABLE orders_archive.order_items IN SHARE MODE';
  END IF;
  -- DELETE, not TRUNCATE: readers keep the old figures until this commits instead of waiting on the lock.
  DELETE FROM orders.order_daily_totals;
  DELETE FROM orders.order_status_totals;
  DELETE FROM orders.customer_order_totals;
  DELETE FROM orders.product_daily_units;
  DELETE FROM orders.product_units;
  PERFORM orders.aggregates_apply(orders.aggregates_raw('orders'), orders.aggregates_raw('items'), 1);
END $$;
--> statement-breakpoint
-- Before a detached, exported archive partition is dropped: its orders (`rows`, the columns of
-- orders.orders) and their items (`items`, the columns of orders.order_items) leave every aggregate, as if
-- deleted. Call it in the transaction that drops them.
CREATE FUNCTION "orders"."aggregates_forget"("rows" regclass, "items" regclass)
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
-- Every aggregate row that differs from a recomputation over the raw rows (absent counts as zero), named
-- by table and key. Run it in one REPEATABLE READ transaction so every comparison sees one snapshot.
CREATE FUNCTION "orders"."aggregates_check"()
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
      FROM e FULL JOIN orders.order_daily_totals s ON s.day = e.day AND s.status = e.status AND s.slot = e.slot
      WHERE coalesce(e.n, 0) <> coalesce(s.order_count, 0) OR coalesce(e.total, 0) <> coalesce(s.total, 0)
    ), per_status AS (
      SELECT status, slot, sum(n) AS n, sum(total) AS total FROM e GROUP BY 1, 2
    ), statuses AS (
      SELECT 'orders.order_status_totals'::text,
        'status=' || coalesce(e.status, s.status) || ' slot=' || coalesce(e.slot, s.slot),
        coalesce(e.n, 0) || ' orders, total ' || coalesce(e.total, 0)::numeric(18, 2),
        coalesce(s.order_count, 0) || ' orders, total ' || coalesce(s.total, 0)::numeric(18, 2)
      FROM per_status e FULL JOIN orders.order_status_totals s ON s.status = e.status AND s.slot = e.slot
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
    FROM e FULL JOIN orders.customer_order_totals s
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
      FROM e FULL JOIN orders.product_daily_units s ON s.product_id = e.product_id AND s.day = e.day
      WHERE coalesce(e.units, 0) <> coalesce(s.units, 0)
    ), per_product AS (
      SELECT product_id, sum(units) AS units FROM e GROUP BY 1
    ), products AS (
      SELECT 'orders.product_units'::text, 'product=' || coalesce(e.product_id, s.product_id),
        coalesce(e.units, 0) || ' units', coalesce(s.units, 0) || ' units'
      FROM per_product e FULL JOIN orders.product_units s ON s.product_id = e.product_id
      WHERE coalesce(e.units, 0) <> coalesce(s.units, 0)
    )
    SELECT * FROM daily UNION ALL SELECT * FROM products ORDER BY 1, 2
  $q$, item_rows, order_rows);
END $$;
--> statement-breakpoint
-- Databases migrated before the aggregates existed start from their rows.
SELECT "orders"."aggregates_rebuild"();
