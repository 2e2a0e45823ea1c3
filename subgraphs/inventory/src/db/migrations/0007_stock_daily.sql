CREATE TABLE "inventory"."stock_daily" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"slot" smallint NOT NULL,
	"on_hand_delta" bigint NOT NULL,
	"reserved_delta" bigint NOT NULL,
	"movements" bigint NOT NULL,
	CONSTRAINT "stock_daily_product_id_day_slot_pk" PRIMARY KEY("product_id","day","slot")
);
