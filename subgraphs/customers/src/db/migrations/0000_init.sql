CREATE SCHEMA IF NOT EXISTS "customers";
--> statement-breakpoint
CREATE TYPE "customers"."customer_tier" AS ENUM('STANDARD', 'SILVER', 'GOLD', 'PLATINUM');--> statement-breakpoint
CREATE TABLE "customers"."customers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"phone" text,
	"email" text,
	"address" text,
	"tier" "customers"."customer_tier" DEFAULT 'STANDARD' NOT NULL,
	"notes" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "customers_phone_idx" ON "customers"."customers" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "customers_name_id_idx" ON "customers"."customers" USING btree ("name","id");