-- inventory.stock_daily sums each product's ledger per UTC day (and per slot, as the movement counts do),
-- kept by the ledger's one row trigger in the writer's transaction. Stock at a moment T is the product's
-- columns now minus the days after T's day and minus T's own day after T (inventory.stock_at), so it
-- costs at most days × 8 rows plus one day of the ledger, however long the history. The rollup describes
-- the whole ledger, archived and dropped months included: history stays answerable (to the day) after
-- `stockgraph partitions drop`.

-- The ledger as it stands: the live table, plus the partition-lifecycle archive while it exists.
CREATE FUNCTION "inventory"."ledger_source"() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN to_regclass('inventory_archive.stock_movements') IS NULL THEN 'inventory.stock_movements'
    ELSE '(SELECT id, created_at, product_id, delta, reason FROM inventory.stock_movements UNION ALL '
      || 'SELECT id, created_at, product_id, delta, reason FROM inventory_archive.stock_movements)' END
$$;
--> statement-breakpoint
CREATE FUNCTION "inventory"."on_hand_part"(reason inventory.movement_reason, delta integer) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN reason IN ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN') THEN delta ELSE 0 END $$;
--> statement-breakpoint
CREATE FUNCTION "inventory"."reserved_part"(reason inventory.movement_reason, delta integer) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN reason IN ('RESERVATION', 'RELEASE') THEN delta ELSE 0 END $$;
--> statement-breakpoint
CREATE FUNCTION "inventory"."ledger_day"(at timestamptz) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (at AT TIME ZONE 'UTC')::date $$;
--> statement-breakpoint
-- One trigger for both rollups of a ledger row: a second trigger would double the per-row overhead on
-- the order path.
CREATE OR REPLACE FUNCTION "inventory"."movement_counts_on_movement"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO inventory.product_movement_counts AS t (product_id, slot, movements)
      VALUES (OLD.product_id, inventory.movement_slot(OLD.id), -1)
      ON CONFLICT (product_id, slot) DO UPDATE SET movements = t.movements + excluded.movements;
    INSERT INTO inventory.stock_daily AS t (product_id, day, slot, on_hand_delta, reserved_delta, movements)
      VALUES (OLD.product_id, inventory.ledger_day(OLD.created_at), inventory.movement_slot(OLD.id),
        -inventory.on_hand_part(OLD.reason, OLD.delta), -inventory.reserved_part(OLD.reason, OLD.delta), -1)
      ON CONFLICT (product_id, day, slot) DO UPDATE SET on_hand_delta = t.on_hand_delta + excluded.on_hand_delta,
        reserved_delta = t.reserved_delta + excluded.reserved_delta, movements = t.movements + excluded.movements;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO inventory.product_movement_counts AS t (product_id, slot, movements)
      VALUES (NEW.product_id, inventory.movement_slot(NEW.id), 1)
      ON CONFLICT (product_id, slot) DO UPDATE SET movements = t.movements + excluded.movements;
    INSERT INTO inventory.stock_daily AS t (product_id, day, slot, on_hand_delta, reserved_delta, movements)
      VALUES (NEW.product_id, inventory.ledger_day(NEW.created_at), inventory.movement_slot(NEW.id),
        inventory.on_hand_part(NEW.reason, NEW.delta), inventory.reserved_part(NEW.reason, NEW.delta), 1)
      ON CONFLICT (product_id, day, slot) DO UPDATE SET on_hand_delta = t.on_hand_delta + excluded.on_hand_delta,
        reserved_delta = t.reserved_delta + excluded.reserved_delta, movements = t.movements + excluded.movements;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Every column a rollup reads: a corrected delta, reason or time moves the row between days too.
DROP TRIGGER "stock_movements_count" ON "inventory"."stock_movements";
--> statement-breakpoint
CREATE TRIGGER "stock_movements_count" AFTER INSERT OR DELETE OR UPDATE OF product_id, id, delta, reason, created_at
  ON "inventory"."stock_movements" FOR EACH ROW EXECUTE FUNCTION "inventory"."movement_counts_on_movement"();
--> statement-breakpoint
-- Both rollups again from the ledger. The daily sums are recomputed from the first day the ledger still
-- holds (live or archived); older days are history whose ledger was dropped and stay as they are.
CREATE OR REPLACE FUNCTION "inventory"."movement_counts_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  first_day date;
BEGIN
  LOCK TABLE inventory.stock_movements IN SHARE MODE;
  IF to_regclass('inventory_archive.stock_movements') IS NOT NULL THEN
    EXECUTE 'LOCK TABLE inventory_archive.stock_movements IN SHARE MODE';
  END IF;
  DELETE FROM inventory.product_movement_counts;
  INSERT INTO inventory.product_movement_counts (product_id, slot, movements)
    SELECT product_id, inventory.movement_slot(id), count(*) FROM inventory.stock_movements GROUP BY 1, 2;
  EXECUTE format('SELECT inventory.ledger_day(min(created_at)) FROM %s m', inventory.ledger_source()) INTO first_day;
  DELETE FROM inventory.stock_daily WHERE first_day IS NULL OR day >= first_day;
  EXECUTE format('INSERT INTO inventory.stock_daily (product_id, day, slot, on_hand_delta, reserved_delta, movements)
    SELECT product_id, inventory.ledger_day(created_at), inventory.movement_slot(id),
      sum(inventory.on_hand_part(reason, delta)), sum(inventory.reserved_part(reason, delta)), count(*)
    FROM %s m GROUP BY 1, 2, 3', inventory.ledger_source());
END $$;
--> statement-breakpoint
-- Every count or daily sum that differs from the ledger (absent counts as zero), by product, day and slot.
DROP FUNCTION "inventory"."movement_counts_check"();
--> statement-breakpoint
CREATE FUNCTION "inventory"."movement_counts_check"()
  RETURNS TABLE (aggregate text, key text, expected text, stored text) LANGUAGE plpgsql STABLE AS $$
DECLARE
  first_day date;
BEGIN
  RETURN QUERY
  WITH e AS (
    SELECT product_id, inventory.movement_slot(id) AS slot, count(*) AS n FROM inventory.stock_movements GROUP BY 1, 2
  )
  SELECT 'inventory.product_movement_counts'::text,
    'product=' || coalesce(e.product_id, s.product_id) || ' slot=' || coalesce(e.slot, s.slot),
    coalesce(e.n, 0) || ' movements', coalesce(s.movements, 0) || ' movements'
  FROM e FULL JOIN inventory.product_movement_counts s ON s.product_id = e.product_id AND s.slot = e.slot
  WHERE coalesce(e.n, 0) <> coalesce(s.movements, 0)
  ORDER BY 2;
  EXECUTE format('SELECT inventory.ledger_day(min(created_at)) FROM %s m', inventory.ledger_source()) INTO first_day;
  RETURN QUERY EXECUTE format($q$
    WITH e AS (
      SELECT product_id, inventory.ledger_day(created_at) AS day, inventory.movement_slot(id) AS slot,
        sum(inventory.on_hand_part(reason, delta)) AS on_hand, sum(inventory.reserved_part(reason, delta)) AS reserved,
        count(*) AS n
      FROM %s m GROUP BY 1, 2, 3
    ), s AS (SELECT * FROM inventory.stock_daily WHERE day >= $1)
    SELECT 'inventory.stock_daily'::text,
      'product=' || coalesce(e.product_id, s.product_id) || ' day=' || coalesce(e.day, s.day) || ' slot=' || coalesce(e.slot, s.slot),
      format('on hand %%s, reserved %%s, %%s movements', coalesce(e.on_hand, 0), coalesce(e.reserved, 0), coalesce(e.n, 0)),
      format('on hand %%s, reserved %%s, %%s movements', coalesce(s.on_hand_delta, 0), coalesce(s.reserved_delta, 0), coalesce(s.movements, 0))
    FROM e FULL JOIN s ON s.product_id = e.product_id AND s.day = e.day AND s.slot = e.slot
    WHERE (coalesce(e.on_hand, 0), coalesce(e.reserved, 0), coalesce(e.n, 0))
      IS DISTINCT FROM (coalesce(s.on_hand_delta, 0), coalesce(s.reserved_delta, 0), coalesce(s.movements, 0))
    ORDER BY 2$q$, inventory.ledger_source()) USING coalesce(first_day, 'infinity'::date);
END $$;
--> statement-breakpoint
-- The ledger's sums per product over (lo, hi), both exclusive, live and archived, for the products
-- `ids` names (null: all, or all of `only_category`). Static statements, so PL/pgSQL keeps their plans:
-- planned afresh each call (EXECUTE) they cost ~20 ms across the ledger's 30 partitions.
CREATE FUNCTION "inventory"."ledger_sums"(ids uuid[], only_category text, lo timestamptz, hi timestamptz)
  RETURNS TABLE (product_id uuid, on_hand bigint, reserved bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF to_regclass('inventory_archive.stock_movements') IS NULL THEN
    RETURN QUERY
    SELECT m.product_id, sum(inventory.on_hand_part(m.reason, m.delta))::bigint,
      sum(inventory.reserved_part(m.reason, m.delta))::bigint
    FROM inventory.stock_movements m JOIN inventory.products x ON x.id = m.product_id
    WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
      AND m.created_at > lo AND m.created_at < hi
    GROUP BY 1;
  ELSE
    RETURN QUERY
    SELECT m.product_id, sum(inventory.on_hand_part(m.reason, m.delta))::bigint,
      sum(inventory.reserved_part(m.reason, m.delta))::bigint
    FROM (SELECT l.product_id, l.created_at, l.reason, l.delta FROM inventory.stock_movements l
          UNION ALL
          SELECT a.product_id, a.created_at, a.reason, a.delta FROM inventory_archive.stock_movements a) m
      JOIN inventory.products x ON x.id = m.product_id
    WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
      AND m.created_at > lo AND m.created_at < hi
    GROUP BY 1;
  END IF;
END $$;
--> statement-breakpoint
-- Each product's stock at `at` (on hand, reserved) for the products that existed by then (`ids`; null:
-- every product, or every product of `only_category`: the valuation). From whichever end of the history
-- is nearer: for a recent moment, today's columns minus the daily sums after `at`'s day and `at`'s own
-- day after `at`; for an old one, the daily sums before `at`'s day plus that day up to `at`. Either way
-- at most half the history's days × 8 rows plus a day of ledger per product. A movement at exactly `at`
-- counts. In a month whose ledger was dropped the day's own movements are gone: the answer is the stock
-- at that day's end (recent moments) or start (old ones).
CREATE FUNCTION "inventory"."stock_at"(ids uuid[], at timestamptz, only_category text DEFAULT NULL)
  RETURNS TABLE (product_id uuid, on_hand bigint, reserved bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
  at_day date := inventory.ledger_day(at);
  day_start timestamptz := at_day::timestamp AT TIME ZONE 'UTC';
  first_day date := (SELECT min(s.day) FROM inventory.stock_daily s);
BEGIN
  IF first_day IS NOT NULL AND at_day - first_day < inventory.ledger_day(now()) - at_day THEN
    RETURN QUERY
    WITH p AS (
      SELECT x.id FROM inventory.products x
      WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
        AND x.created_at <= at
    ), earlier_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand, sum(d.reserved_delta) AS reserved
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day < at_day
      GROUP BY 1
    )
    SELECT p.id, (coalesce(d.on_hand, 0) + coalesce(t.on_hand, 0))::bigint,
      (coalesce(d.reserved, 0) + coalesce(t.reserved, 0))::bigint
    FROM p LEFT JOIN earlier_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_sums(ids, only_category, day_start - interval '1 microsecond',
        at + interval '1 microsecond') t ON t.product_id = p.id;
  ELSE
    RETURN QUERY
    WITH p AS (
      SELECT x.id, x.on_hand, x.reserved FROM inventory.products x
      WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
        AND x.created_at <= at
    ), later_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand, sum(d.reserved_delta) AS reserved
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day > at_day
      GROUP BY 1
    )
    SELECT p.id, (p.on_hand - coalesce(d.on_hand, 0) - coalesce(t.on_hand, 0))::bigint,
      (p.reserved - coalesce(d.reserved, 0) - coalesce(t.reserved, 0))::bigint
    FROM p LEFT JOIN later_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_sums(ids, only_category, at, day_start + interval '1 day') t ON t.product_id = p.id;
  END IF;
END $$;
--> statement-breakpoint
-- Databases with a ledger start from it.
SELECT "inventory"."movement_counts_rebuild"();
