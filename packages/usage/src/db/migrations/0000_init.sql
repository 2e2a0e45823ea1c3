CREATE SCHEMA IF NOT EXISTS "usage";
--> statement-breakpoint
CREATE TABLE "usage"."coordinate_usage" (
	"hour" timestamp with time zone NOT NULL,
	"client_name" text NOT NULL,
	"client_version" text NOT NULL,
	"coordinate" text NOT NULL,
	"count" bigint NOT NULL,
	"samples" bigint NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	CONSTRAINT "coordinate_usage_coordinate_client_name_client_version_hour_pk" PRIMARY KEY("coordinate","client_name","client_version","hour")
);
--> statement-breakpoint
CREATE INDEX "coordinate_usage_hour_idx" ON "usage"."coordinate_usage" USING btree ("hour");