/**
 * How legacy values become Stockgraph values: every decision docs/operators/migration.md's "Migrate from SQLite"
 * section documents lives here, as small pure functions.
 */

/**
 * Money: half-up to cents from the float's shortest decimal representation (what the old UI
 * displayed), so 19.899999999999998578 (typed as 19.9) is 19.90 and 2.675 is 2.68, never 2.67.
 * Returns integer cents; null for values that are not finite.
 */
export function toCents(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  const negative = value < 0;
  let text = String(Math.abs(value));
  if (text.includes('e')) text = Math.abs(value).toFixed(20).replace(/0+$/, '');
  const [whole = '0', fraction = ''] = text.split('.');
  const digits = (fraction + '000').slice(0, 3);
  let cents = Number(whole) * 100 + Number(digits.slice(0, 2));
  if (Number(digits[2]) >= 5) cents += 1;
  return negative ? -cents : cents;
}

export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const DASHED = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const SLASHED = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/;

/** A zone's offset from UTC in ms at an instant, through Intl (the IANA database Node ships). */
function zoneOffsetAt(formatter: Intl.DateTimeFormat, ms: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Every numeric part of a moment's wall-clock time in `timeZone`, 24-hour (read with formatToParts). */
export function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/**
 * Parses the legacy shop-local timestamps ('YYYY-MM-DD HH:MM:SS' and 'YYYY/MM/DD HH:MM') in the
 * shop's zone. Empty, zero and impossible dates (Feb 30, month 13) are null: the caller quarantines.
 * A local time that a DST change skipped or repeated takes the zone's offset before the change.
 */
export function createTimeParser(timeZone: string) {
  const formatter = zoneFormatter(timeZone);
  // Offsets change at most a few times a year: a few Intl calls per local hour seen are plenty, and a
  // day whose first and last hour share an offset takes it for every hour.
  const offsets = new Map<number, number>();
  const offsetFor = (localMs: number) => {
    const hour = Math.floor(localMs / 3_600_000);
    let offset = offsets.get(hour);
    if (offset === undefined) {
      // The offsets a day before and a day after: the same unless a change falls in between. Then the
      // one before the change is taken if this local time reads back with it (an ordinary time before
      // the change, or a repeated one), the one after if only that fits, and before it when neither
      // fits (a skipped time).
      const before = zoneOffsetAt(formatter, localMs - 86_400_000);
      const after = zoneOffsetAt(formatter, localMs + 86_400_000);
      const fits = (o: number) => zoneOffsetAt(formatter, localMs - o) === o;
      offset = before === after || fits(before) || !fits(after) ? before : after;
      offsets.set(hour, offset);
    }
    return offset;
  };
  const days = new Map<number, number | null>();
  const dayOffsetFor = (localMs: number) => {
    const day = Math.floor(localMs / 86_400_000);
    let offset = days.get(day);
    if (offset === undefined) {
      const start = offsetFor(day * 86_400_000);
      offset = start === offsetFor(day * 86_400_000 + 86_399_000) ? start : null;
      days.set(day, offset);
    }
    return offset ?? offsetFor(localMs);
  };
  return (text: string | null): Date | null => {
    if (!text) return null;
    const m = DASHED.exec(text) ?? SLASHED.exec(text);
    if (!m) return null;
    const [year, month, day, hour, minute] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const second = m[6] === undefined ? 0 : Number(m[6]);
    if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
    const localMs = Date.UTC(year, month - 1, day, hour, minute, second);
    if (new Date(localMs).getUTCDate() !== day) return null;
    return new Date(localMs - dayOffsetFor(localMs));
  };
}

export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'FULFILLED';

/**
 * The legacy workflow took stock out of the log at payment and has no reservations, so every order
 * whose goods were paid for is FULFILLED here (its SALE rows are in the ledger); pending orders stay
 * PENDING (the orders service announces them to inventory, which reserves or rejects them like a new
 * order); refunded orders are CANCELLED (their RETURN rows are in the ledger). Case and surrounding
 * spaces are ignored; anything else is quarantined.
 */
const STATUS: Record<string, OrderStatus> = {
  pending: 'PENDING',
  paid: 'FULFILLED',
  shipped: 'FULFILLED',
  completed: 'FULFILLED',
  cancelled: 'CANCELLED',
  refunded: 'CANCELLED',
};

export function mapStatus(raw: string): OrderStatus | null {
  return STATUS[raw.trim().toLowerCase()] ?? null;
}

export type Role = 'ADMIN' | 'MANAGER' | 'STAFF' | 'VIEWER';
const ROLE: Record<string, Role> = { admin: 'ADMIN', manager: 'MANAGER', clerk: 'STAFF', readonly: 'VIEWER' };

export function mapRole(raw: string): Role | null {
  return ROLE[raw.trim().toLowerCase()] ?? null;
}

export type MovementReason = 'RECEIPT' | 'SALE' | 'ADJUSTMENT' | 'RETURN';
/** A stocktake is a correction of the count: an ADJUSTMENT, with the legacy reason kept in the note. */
const REASON: Record<string, MovementReason> = {
  purchase: 'RECEIPT',
  sale: 'SALE',
  adjust: 'ADJUSTMENT',
  stocktake: 'ADJUSTMENT',
  return: 'RETURN',
};

export function mapReason(raw: string): MovementReason | null {
  return REASON[raw.trim().toLowerCase()] ?? null;
}

/**
 * Phones are stored as + and digits (the customers service's own rule). What is left must look like
 * a phone number (7–15 digits, one optional leading +); empty strings are no phone at all.
 */
export function mapPhone(raw: string | null): { phone: string | null; malformed: boolean } {
  if (raw === null || raw.trim() === '') return { phone: null, malformed: false };
  const cleaned = raw.replace(/[\s\-().]/g, '');
  if (/^\+?\d{7,15}$/.test(cleaned)) return { phone: cleaned, malformed: false };
  return { phone: null, malformed: true };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Users sign in by email, stored lower-cased: one address is one account. */
export function mapUserEmail(raw: string | null): string | null {
  const email = raw?.trim().toLowerCase() ?? '';
  return EMAIL.test(email) ? email : null;
}

export function mapCustomerEmail(raw: string | null): { email: string | null; malformed: boolean } {
  const email = raw?.trim() ?? '';
  if (email === '') return { email: null, malformed: false };
  return EMAIL.test(email) ? { email, malformed: false } : { email: null, malformed: true };
}

/** SKUs differing only in case or surrounding spaces are the same SKU to the people who typed them. */
export const skuKey = (sku: string) => sku.trim().toLowerCase();

/**
 * Repeated lines for one product in one order become one line, because Stockgraph keeps one line per
 * product (order_items' key is order + product). The revenue must stay exact to the cent, so the
 * merged line's total is the exact sum of the legacy lines' cents, and its unit price is that total
 * over the quantity, half-up to the cent: the weighted average of the legacy unit prices. It equals
 * each legacy unit price when they were the same; when they differed, unit_price × quantity may miss
 * line_total by less than a cent per unit, and line_total is the figure that counts.
 */
export function weightedUnitCents(totalCents: number, quantity: number): number {
  return Math.floor((2 * totalCents + quantity) / (2 * quantity));
}

/** Placeholder products keep the sales of legacy products that are gone; they hold no stock. */
export const PLACEHOLDER_CATEGORY = 'Archived (legacy import)';
export const placeholderSku = (legacyId: number) => `LEGACY-${legacyId}`;
/** `legacy_import.id_map.legacy_table` of placeholders: legacy product id → placeholder id. */
export const PLACEHOLDER_ID_MAP = 'placeholder_products';

/** Stockgraph's default when the legacy product had none. */
export const DEFAULT_REORDER_LEVEL = 10;

/** Legacy tables, numbered for the ids (see ids.ts). */
export const TABLE_CODE = {
  users: 1,
  products: 2,
  customers: 3,
  orders: 4,
  inventory_log: 5,
  price_history: 6,
  reconciliation: 7,
  /** Placeholder products standing for deleted or quarantined legacy products that order lines name. */
  placeholder_products: 8,
} as const;
export type IdTable = keyof typeof TABLE_CODE;

/**
 * UUIDv7 carrying the row's creation time, so rows land in the right monthly partition and a lookup
 * by id finds its partition. The rest is not random but (table, legacy id, file salt): a re-run of
 * an import computes the very same ids, which is what makes it resumable and idempotent.
 */
export function legacyUuid(at: Date, table: IdTable, legacyId: number, salt: Uint8Array): string {
  const ms = at.getTime();
  const b = new Uint8Array(16);
  const high = Math.floor(ms / 2 ** 16);
  b[0] = (high >>> 24) & 0xff;
  b[1] = (high >>> 16) & 0xff;
  b[2] = (high >>> 8) & 0xff;
  b[3] = high & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | TABLE_CODE[table];
  b[7] = salt[0]!;
  b[8] = 0x80 | (salt[1]! & 0x3f);
  b[9] = salt[2]!;
  let id = legacyId;
  for (let i = 15; i >= 10; i--) {
    b[i] = id % 256;
    id = Math.floor(id / 256);
  }
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
