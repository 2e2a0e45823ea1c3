-- The nearer end within the day too. stock_at and on_hand_at read the rollups up to a day boundary and
-- then the ledger between that boundary and `at`; they always took the boundary on the side of `at` they
-- read the history from, so a recent moment read the rest of its day (up to 24 hours of ledger) and an old
-- one the day up to it. Now the boundary is whichever midnight is nearer to `at`, and the ledger read is
-- at most 12 hours: level(at) = level(start of at's day) + its movements up to `at`, or level(end of
-- at's day) - its movements after `at`. The level at a boundary still comes from the nearer end of the
-- history (the daily sums before it, or today's columns less the daily sums from it on). A movement at
-- exactly `at` counts. In a month whose ledger was dropped the day's own movements are gone: the answer
-- is the stock at that day's start or end, whichever is nearer to `at`.
-- The midnight nearer to `at` and the ledger between the two: `boundary_day` is the day that midnight
-- starts (the daily sums of the days before it make up the level there), (lo, hi) the ledger's window,
-- both ends exclusive, and `sign` whether that window is added to the level (+1: `at` is in the first
-- half of its day) or taken away (-1).
CREATE FUNCTION "inventory"."nearer_midnight"(at timestamptz,
  OUT boundary_day date, OUT lo timestamptz, OUT hi timestamptz, OUT sign integer)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN first_half THEN at_day ELSE at_day + 1 END,
    CASE WHEN first_half THEN day_start - interval '1 microsecond' ELSE at END,
    CASE WHEN first_half THEN at + interval '1 microsecond' ELSE day_start + interval '1 day' END,
    CASE WHEN first_half THEN 1 ELSE -1 END
  FROM (SELECT inventory.ledger_day(at) AS at_day,
          inventory.ledger_day(at)::timestamp AT TIME ZONE 'UTC' AS day_start) d,
    LATERAL (SELECT at - d.day_start < interval '12 hours' AS first_half) h
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "inventory"."stock_at"(ids uuid[], at timestamptz, only_category text DEFAULT NULL)
  RETURNS TABLE (product_id uuid, on_hand bigint, reserved bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
  w record := inventory.nearer_midnight(at);
  boundary_day date := w.boundary_day;
  lo timestamptz := w.lo;
  hi timestamptz := w.hi;
  sign integer := w.sign;
  first_day date := (SELECT min(s.day) FROM inventory.stock_daily s);
BEGIN
  IF first_day IS NOT NULL AND boundary_day - first_day < inventory.ledger_day(now()) - boundary_day THEN
    RETURN QUERY
    WITH p AS (
      SELECT x.id FROM inventory.products x
      WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
        AND x.created_at <= at
    ), earlier_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand, sum(d.reserved_delta) AS reserved
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day < boundary_day
      GROUP BY 1
    )
    SELECT p.id, (coalesce(d.on_hand, 0) + sign * coalesce(t.on_hand, 0))::bigint,
      (coalesce(d.reserved, 0) + sign * coalesce(t.reserved, 0))::bigint
    FROM p LEFT JOIN earlier_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_sums(ids, only_category, lo, hi) t ON t.product_id = p.id;
  ELSE
    RETURN QUERY
    WITH p AS (
      SELECT x.id, x.on_hand, x.reserved FROM inventory.products x
      WHERE (ids IS NULL OR x.id = ANY(ids)) AND (only_category IS NULL OR x.category = only_category)
        AND x.created_at <= at
    ), later_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand, sum(d.reserved_delta) AS reserved
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day >= boundary_day
      GROUP BY 1
    )
    SELECT p.id, (p.on_hand - coalesce(d.on_hand, 0) + sign * coalesce(t.on_hand, 0))::bigint,
      (p.reserved - coalesce(d.reserved, 0) + sign * coalesce(t.reserved, 0))::bigint
    FROM p LEFT JOIN later_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_sums(ids, only_category, lo, hi) t ON t.product_id = p.id;
  END IF;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "inventory"."on_hand_at"(at timestamptz, only_category text DEFAULT NULL)
  RETURNS TABLE (product_id uuid, on_hand bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
  w record := inventory.nearer_midnight(at);
  boundary_day date := w.boundary_day;
  lo timestamptz := w.lo;
  hi timestamptz := w.hi;
  sign integer := w.sign;
  first_day date := (SELECT min(s.day) FROM inventory.stock_daily s);
BEGIN
  IF first_day IS NOT NULL AND boundary_day - first_day < inventory.ledger_day(now()) - boundary_day THEN
    RETURN QUERY
    WITH p AS (
      SELECT x.id FROM inventory.products x
      WHERE (only_category IS NULL OR x.category = only_category) AND x.created_at <= at
    ), earlier_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day < boundary_day
      GROUP BY 1
    )
    SELECT p.id, (coalesce(d.on_hand, 0) + sign * coalesce(t.on_hand, 0))::bigint
    FROM p LEFT JOIN earlier_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_on_hand_sums(only_category, lo, hi) t ON t.product_id = p.id;
  ELSE
    RETURN QUERY
    WITH p AS (
      SELECT x.id, x.on_hand FROM inventory.products x
      WHERE (only_category IS NULL OR x.category = only_category) AND x.created_at <= at
    ), later_days AS (
      SELECT d.product_id, sum(d.on_hand_delta) AS on_hand
      FROM inventory.stock_daily d JOIN p ON p.id = d.product_id
      WHERE d.day >= boundary_day
      GROUP BY 1
    )
    SELECT p.id, (p.on_hand - coalesce(d.on_hand, 0) + sign * coalesce(t.on_hand, 0))::bigint
    FROM p LEFT JOIN later_days d ON d.product_id = p.id
      LEFT JOIN inventory.ledger_on_hand_sums(only_category, lo, hi) t ON t.product_id = p.id;
  END IF;
END $$;
