-- Stock valued at a moment needs units on hand only, not reservations: yet the same-day part of
-- inventory.stock_at reads every ledger row of that part of the day, and on a busy day most of them are
-- RESERVATION and RELEASE rows of orders being placed. This index holds only the on-hand movements (the
-- predicate is the one inventory.ledger_on_hand_sums filters by), so the valuation reads those alone,
-- from the index (delta is included). Reservations, the order path's writes, never enter it.
CREATE INDEX "stock_movements_on_hand_idx" ON "inventory"."stock_movements" ("product_id", "created_at") INCLUDE ("delta")
  WHERE "reason" IN ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN');
--> statement-breakpoint
-- The ledger's on-hand sums per product over (lo, hi), both exclusive, live and archived, for every
-- product (of `only_category`). As inventory.ledger_sums, static statements so the plans are kept.
CREATE FUNCTION "inventory"."ledger_on_hand_sums"(only_category text, lo timestamptz, hi timestamptz)
  RETURNS TABLE (product_id uuid, on_hand bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF to_regclass('inventory_archive.stock_movements') IS NULL THEN
    RETURN QUERY
    SELECT m.product_id, sum(m.delta)::bigint
    FROM inventory.stock_movements m JOIN inventory.products x ON x.id = m.product_id
    WHERE (only_category IS NULL OR x.category = only_category)
      AND m.reason IN ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN') AND m.created_at > lo AND m.created_at < hi
    GROUP BY 1;
  ELSE
    RETURN QUERY
    SELECT m.product_id, sum(m.delta)::bigint
    FROM (SELECT l.product_id, l.created_at, l.reason, l.delta FROM inventory.stock_movements l
          WHERE l.reason IN ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN') AND l.created_at > lo AND l.created_at < hi
          UNION ALL
          SELECT a.product_id, a.created_at, a.reason, a.delta FROM inventory_archive.stock_movements a
          WHERE a.reason IN ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN') AND a.created_at > lo AND a.created_at < hi) m
      JOIN inventory.products x ON x.id = m.product_id
    WHERE (only_category IS NULL OR x.category = only_category)
    GROUP BY 1;
  END IF;
END $$;
--> statement-breakpoint
-- Each product's units on hand at `at`, for every product that existed by then (of `only_category`): the
-- on-hand half of inventory.stock_at, from the same nearer end of the history with the same answer, but
-- reading only on-hand movements for the part of `at`'s own day.
CREATE FUNCTION "inventory"."on_hand_at"(at timestamptz, only_category text DEFAULT NULL)
  RETURNS TABLE (product_id uuid, on_hand bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
  at_day date := inventory.ledger_day(at);
  day_start timestamptz := at_day::timestamp AT TIME ZONE 'UTC';
  first_day date := (SELECT min(s.day) FROM inventory.stock_daily s);
BEGIN
  IF first_day IS NOT NULL AND at_day - first_day < inventory.ledger_day(now()) - at_day THEN
    RETURN QUERY
    WITH p AS (
      SELECT x.id FROM inventory.products x
      WHERE (only_category IS NULL OR x.category = only_category) AND x.created_at <= at
    ), earlier_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day < at_day
      GROUP BY 1
    )
    SELECT p.id, (coalesce(d.on_hand, 0) + coalesce(t.on_hand, 0))::bigint
    FROM p LEFT JOIN earlier_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_on_hand_sums(only_category, day_start - interval '1 microsecond',
        at + interval '1 microsecond') t ON t.product_id = p.id;
  ELSE
    RETURN QUERY
    WITH p AS (
      SELECT x.id, x.on_hand FROM inventory.products x
      WHERE (only_category IS NULL OR x.category = only_category) AND x.created_at <= at
    ), later_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day > at_day
      GROUP BY 1
    )
    SELECT p.id, (p.on_hand - coalesce(d.on_hand, 0) - coalesce(t.on_hand, 0))::bigint
    FROM p LEFT JOIN later_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_on_hand_sums(only_category, at, day_start + interval '1 day') t ON t.product_id = p.id;
  END IF;
END $$;
