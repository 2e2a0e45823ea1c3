import { v7 } from 'uuid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A UUIDv7 whose embedded timestamp is `at`. Rows of time-partitioned tables take their
 * `created_at` from the same Date, so the id alone tells which partition holds the row.
 * `random` (16 bytes) makes ids reproducible, for the demo seed.
 */
export function newId(at: Date = new Date(), random?: Uint8Array): string {
  return random ? v7({ msecs: at.getTime(), random }) : v7({ msecs: at.getTime() });
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
