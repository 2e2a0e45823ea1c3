CREATE TABLE "orders"."customer_order_totals" (
	"customer_id" uuid NOT NULL,
	"status" "orders"."order_status" NOT NULL,
	"slot" smallint NOT NULL,
	"order_count" bigint NOT NULL,
	"total" numeric(18, 2) NOT NULL,
	CONSTRAINT "customer_order_totals_customer_id_status_slot_pk" PRIMARY KEY("customer_id","status","slot")
);
--> statement-breakpoint
CREATE TABLE "orders"."order_daily_totals" (
	"day" date NOT NULL,
	"status" "orders"."order_status" NOT NULL,
	"slot" smallint NOT NULL,
	"order_count" bigint NOT NULL,
	"total" numeric(18, 2) NOT NULL,
	CONSTRAINT "order_daily_totals_day_status_slot_pk" PRIMARY KEY("day","status","slot")
);
--> statement-breakpoint
CREATE TABLE "orders"."order_status_totals" (
	"status" "orders"."order_status" NOT NULL,
	"slot" smallint NOT NULL,
	"order_count" bigint NOT NULL,
	"total" numeric(18, 2) NOT NULL,
	CONSTRAINT "order_status_totals_status_slot_pk" PRIMARY KEY("status","slot")
);
--> statement-breakpoint
CREATE TABLE "orders"."product_daily_units" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"units" bigint NOT NULL,
	CONSTRAINT "product_daily_units_product_id_day_pk" PRIMARY KEY("product_id","day")
);
--> statement-breakpoint
CREATE TABLE "orders"."product_units" (
	"product_id" uuid PRIMARY KEY NOT NULL,
	"units" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "orders_customer_status_created_idx" ON "orders"."orders" USING btree ("customer_id","status","created_at");