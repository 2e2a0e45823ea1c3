CREATE SCHEMA IF NOT EXISTS "orders";
--> statement-breakpoint
CREATE TYPE "orders"."order_status" AS ENUM('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'FULFILLED');--> statement-breakpoint
CREATE SEQUENCE "orders"."order_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "orders"."order_items" (
	"order_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"product_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price" numeric(12, 2) NOT NULL,
	"line_total" numeric(14, 2) NOT NULL,
	CONSTRAINT "order_items_order_id_product_id_created_at_pk" PRIMARY KEY("order_id","product_id","created_at"),
	CONSTRAINT "order_items_quantity_positive" CHECK (quantity > 0)
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"number" text NOT NULL,
	"customer_id" uuid NOT NULL,
	"status" "orders"."order_status" DEFAULT 'PENDING' NOT NULL,
	"total" numeric(14, 2) NOT NULL,
	"created_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_id_created_at_pk" PRIMARY KEY("id","created_at"),
	CONSTRAINT "orders_total_nonnegative" CHECK (total >= 0)
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
ALTER TABLE "orders"."order_items" ADD CONSTRAINT "order_items_order_id_created_at_orders_id_created_at_fk" FOREIGN KEY ("order_id","created_at") REFERENCES "orders"."orders"("id","created_at") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_items_product_created_idx" ON "orders"."order_items" USING btree ("product_id","created_at");--> statement-breakpoint
CREATE INDEX "orders_customer_created_idx" ON "orders"."orders" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "orders_created_id_idx" ON "orders"."orders" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "orders_status_created_idx" ON "orders"."orders" USING btree ("status","created_at");