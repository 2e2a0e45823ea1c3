CREATE TABLE "inventory"."product_movement_counts" (
	"product_id" uuid NOT NULL,
	"slot" smallint NOT NULL,
	"movements" bigint NOT NULL,
	CONSTRAINT "product_movement_counts_product_id_slot_pk" PRIMARY KEY("product_id","slot")
);
