CREATE TYPE "inventory"."stocktake_status" AS ENUM('OPEN', 'CLOSED');--> statement-breakpoint
CREATE TABLE "inventory"."stocktake_lines" (
	"stocktake_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"on_hand_at_open" integer NOT NULL,
	"counted" integer,
	"counted_at" timestamp with time zone,
	"counted_by" uuid,
	"applied" integer,
	CONSTRAINT "stocktake_lines_stocktake_id_product_id_pk" PRIMARY KEY("stocktake_id","product_id"),
	CONSTRAINT "stocktake_lines_counted_nonnegative" CHECK (counted is null or counted >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."stocktakes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"category" text,
	"status" "inventory"."stocktake_status" DEFAULT 'OPEN' NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"opened_by" uuid NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" uuid
);
--> statement-breakpoint
ALTER TABLE "inventory"."products" ADD COLUMN "stocktake_id" uuid;--> statement-breakpoint
ALTER TABLE "inventory"."stocktake_lines" ADD CONSTRAINT "stocktake_lines_stocktake_id_stocktakes_id_fk" FOREIGN KEY ("stocktake_id") REFERENCES "inventory"."stocktakes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."stocktake_lines" ADD CONSTRAINT "stocktake_lines_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "stocktake_lines_sku_key" ON "inventory"."stocktake_lines" USING btree ("stocktake_id","sku");--> statement-breakpoint
CREATE INDEX "stocktakes_status_opened_idx" ON "inventory"."stocktakes" USING btree ("status","opened_at");