-- product_movement_counts follows every ledger write in the writer's transaction. Bulk loads with
-- session_replication_role = replica skip the trigger and must end with inventory.movement_counts_rebuild()
-- (`pnpm stockgraph aggregates rebuild`).

-- The movement id's last byte is random in a UUIDv7 and the same on every PostgreSQL version.
CREATE FUNCTION "inventory"."movement_slot"(id uuid) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (get_byte(uuid_send(id), 15) & 7)::smallint $$;
--> statement-breakpoint
CREATE FUNCTION "inventory"."movement_counts_on_movement"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.product_id = NEW.product_id AND OLD.id = NEW.id THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO inventory.product_movement_counts AS t (product_id, slot, movements)
      VALUES (OLD.product_id, inventory.movement_slot(OLD.id), -1)
      ON CONFLICT (product_id, slot) DO UPDATE SET movements = t.movements + excluded.movements;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO inventory.product_movement_counts AS t (product_id, slot, movements)
      VALUES (NEW.product_id, inventory.movement_slot(NEW.id), 1)
      ON CONFLICT (product_id, slot) DO UPDATE SET movements = t.movements + excluded.movements;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "stock_movements_count" AFTER INSERT OR DELETE OR UPDATE OF product_id, id
  ON "inventory"."stock_movements" FOR EACH ROW EXECUTE FUNCTION "inventory"."movement_counts_on_movement"();
--> statement-breakpoint
-- Recomputes the counts in the caller's transaction; the SHARE lock lets reads go on and holds writers
-- back until it ends, so no movement falls between the scan and the commit.
CREATE FUNCTION "inventory"."movement_counts_rebuild"() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE inventory.stock_movements IN SHARE MODE;
  DELETE FROM inventory.product_movement_counts;
  INSERT INTO inventory.product_movement_counts (product_id, slot, movements)
    SELECT product_id, inventory.movement_slot(id), count(*) FROM inventory.stock_movements GROUP BY 1, 2;
END $$;
--> statement-breakpoint
-- Every count that differs from the ledger (absent counts as zero), by product and slot.
CREATE FUNCTION "inventory"."movement_counts_check"()
  RETURNS TABLE (aggregate text, key text, expected text, stored text) LANGUAGE sql STABLE AS $$
  WITH e AS (
    SELECT product_id, inventory.movement_slot(id) AS slot, count(*) AS n FROM inventory.stock_movements GROUP BY 1, 2
  )
  SELECT 'inventory.product_movement_counts'::text,
    'product=' || coalesce(e.product_id, s.product_id) || ' slot=' || coalesce(e.slot, s.slot),
    coalesce(e.n, 0) || ' movements', coalesce(s.movements, 0) || ' movements'
  FROM e FULL JOIN inventory.product_movement_counts s ON s.product_id = e.product_id AND s.slot = e.slot
  WHERE coalesce(e.n, 0) <> coalesce(s.movements, 0)
  ORDER BY 2
$$;
--> statement-breakpoint
-- Databases migrated before the counts existed start from their ledger.
SELECT "inventory"."movement_counts_rebuild"();
