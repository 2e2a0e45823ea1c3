import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The last millisecond an id was made for, and the counter ids of that millisecond take. */
const latest = { msecs: Number.NaN, seq: 0 };

/**
 * Random bytes drawn 4 KiB at a time: uuid asks the system for 16 per id, and those calls were 2% of
 * orders' CPU under bench:orders (six ids an order). The same source, fewer calls, as Node's randomUUID.
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
function random16(): Uint8Array {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  taken += 16;
  return pool.subarray(taken - 16, taken);
}

/**
 * A UUIDv7 whose embedded timestamp is `at`. Rows of time-partitioned tables take their
 * `created_at` from the same Date, so the id alone tells which partition holds the row.
 * `random` (16 bytes) makes ids reproducible, for the demo seed.
 *
 * Ids made in one millisecond count up from a random start (RFC 9562, method 1): uuid does that only
 * when it reads the clock itself, and drew a fresh random counter for every id given a time, so two
 * events written in one transaction (OrderPlaced, then OrderStatusChanged) sorted either way, and the
 * outbox, relayed in id order, published them either way.
 */
export function newId(at: Date = new Date(), random?: Uint8Array): string {
  const msecs = at.getTime();
  if (random) return v7({ msecs, random });
  if (msecs !== latest.msecs || latest.seq >= 0xffffffff) return fresh(msecs);
  latest.seq += 1;
  return v7({ msecs, seq: latest.seq, random: random16() });
}

/** The first id of a millisecond starts its counter at random, below 2^31 to leave room to count up. */
function fresh(msecs: number): string {
  const random = random16();
  latest.msecs = msecs;
  latest.seq = new DataView(random.buffer, random.byteOffset).getUint32(0) >>> 1;
  // The counter's bytes are the first four; the id's random tail comes from the other twelve.
  return v7({ msecs, seq: latest.seq, random });
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The last instant a UUIDv7 may encode here: later ones (up to year 10889) cannot be a timestamptz bound. */
const MAX_ID_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

/** A UUIDv7 whose timestamp a partition lookup can use (not, say, ffffffff-ffff-7fff-…, year 10889). */
export function isUuidV7(value: string): boolean {
  return UUID_V7.test(value) && timeOf(value) <= MAX_ID_TIME;
}

/** A UUID that can be an id here: any UUID, but a version-7 one only with a usable timestamp. */
export function isUsableId(value: string): boolean {
  return isUuid(value) && (value[14] !== '7' || isUuidV7(value));
}

/** The creation time a UUIDv7 encodes (its first 48 bits, milliseconds since the epoch). */
export function idTime(id: string): Date {
  if (!isUuidV7(id)) throw new TypeError(`not a UUIDv7: ${id}`);
  return new Date(timeOf(id));
}
