-- placeOrder moves onto the shared once(): its key rows keep their user, key and request hash (hashed
-- the same way), and the order they created becomes the result, null only inside the claiming transaction.
ALTER TABLE "orders"."idempotency_keys" RENAME COLUMN "order_id" TO "result_id";--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ALTER COLUMN "result_id" DROP NOT NULL;
