CREATE SCHEMA IF NOT EXISTS "inventory";
--> statement-breakpoint
CREATE TYPE "inventory"."movement_reason" AS ENUM('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN', 'RESERVATION', 'RELEASE');--> statement-breakpoint
CREATE TABLE "inventory"."price_history" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"unit_price" numeric(12, 2) NOT NULL,
	"cost_price" numeric(12, 2),
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"changed_by" uuid
);
--> statement-breakpoint
CREATE TABLE "inventory"."products" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"category" text,
	"unit_price" numeric(12, 2) NOT NULL,
	"cost_price" numeric(12, 2),
	"on_hand" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"available" integer GENERATED ALWAYS AS (on_hand - reserved) STORED NOT NULL,
	"reorder_level" integer DEFAULT 10 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_on_hand_nonnegative" CHECK (on_hand >= 0),
	CONSTRAINT "products_reserved_within_stock" CHECK (reserved >= 0 and reserved <= on_hand),
	CONSTRAINT "products_prices_nonnegative" CHECK (unit_price >= 0 and (cost_price is null or cost_price >= 0))
);
--> statement-breakpoint
CREATE TABLE "inventory"."stock_movements" (
	"id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"product_id" uuid NOT NULL,
	"delta" integer NOT NULL,
	"reason" "inventory"."movement_reason" NOT NULL,
	"order_id" uuid,
	"note" text,
	"actor_id" uuid,
	CONSTRAINT "stock_movements_id_created_at_pk" PRIMARY KEY("id","created_at")
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
ALTER TABLE "inventory"."price_history" ADD CONSTRAINT "price_history_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."stock_movements" ADD CONSTRAINT "stock_movements_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "price_history_product_changed_idx" ON "inventory"."price_history" USING btree ("product_id","changed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "products_sku_key" ON "inventory"."products" USING btree ("sku");--> statement-breakpoint
CREATE INDEX "products_available_sku_idx" ON "inventory"."products" USING btree ("available","sku");--> statement-breakpoint
CREATE INDEX "products_category_sku_idx" ON "inventory"."products" USING btree ("category","sku");--> statement-breakpoint
CREATE INDEX "stock_movements_product_created_idx" ON "inventory"."stock_movements" USING btree ("product_id","created_at","id");--> statement-breakpoint
CREATE INDEX "stock_movements_order_idx" ON "inventory"."stock_movements" USING btree ("order_id");