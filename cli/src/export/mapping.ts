/**
 * How Stockgraph values go back into the legacy store: the inverse of cli/src/import/mapping.ts, each
 * decision documented here and in docs/operators/migration.md, "Export back to SQLite (rollback)". Where the
 * import merged several legacy values into one (paid/shipped/completed → FULFILLED), the export cannot
 * tell them apart again and writes the one the old application treats the same way.
 */
import { zoneFormatter } from '../import/mapping.js';

/**
 * Order statuses (subgraphs/orders/src/db/schema.ts `order_status`). PENDING and CONFIRMED are both
 * "not paid yet" to the old application: a CONFIRMED order's stock is only reserved in Stockgraph
 * (on_hand unchanged), and the old application takes stock when an order is paid, so `pending` keeps
 * stock and log consistent. FULFILLED orders were sold (their SALE rows are in the log): `completed`.
 * REJECTED (inventory could not reserve it) and CANCELLED orders sold nothing: `cancelled`. Legacy
 * `paid`, `shipped` and `refunded` were imported as FULFILLED / CANCELLED and come back as
 * `completed` / `cancelled`.
 */
const STATUS: Record<string, string> = {
  PENDING: 'pending',
  CONFIRMED: 'pending',
  FULFILLED: 'completed',
  REJECTED: 'cancelled',
  CANCELLED: 'cancelled',
};

export function legacyStatus(status: string): string {
  const mapped = STATUS[status];
  if (!mapped) throw new Error(`order status ${status} has no legacy status`);
  return mapped;
}

/** Roles (users.role): the import's mapping reversed. */
const ROLE: Record<string, string> = { ADMIN: 'admin', MANAGER: 'manager', STAFF: 'clerk', VIEWER: 'readonly' };

export function legacyRole(role: string): string {
  const mapped = ROLE[role];
  if (!mapped) throw new Error(`role ${role} has no legacy role`);
  return mapped;
}

/**
 * Ledger reasons (inventory `movement_reason`). The four that change units on hand go into
 * inventory_log; RESERVATION and RELEASE only move `reserved` (on_hand − reserved = available), which
 * the old application does not have, so they are skipped and counted. Imported stocktakes became
 * ADJUSTMENT and come back as `adjust`.
 */
export const LOGGED_REASONS: Record<string, string> = {
  RECEIPT: 'purchase',
  SALE: 'sale',
  ADJUSTMENT: 'adjust',
  RETURN: 'return',
};

/** The legacy format of password hashes, the only one the old application can check. */
export const isLegacyPasswordHash = (hash: string) => /^sha256\$[^$]*\$[0-9a-f]{64}$/.test(hash);

/**
 * Money: numeric(12|14, 2) text → a REAL, as the old application stored it; the nearest double of an
 * exact two-decimal value reads back to the same cents (half-up from its shortest representation).
 */
export const toReal = (value: string | null) => (value === null ? null : Number(value));

/**
 * Timestamps: 'YYYY-MM-DD HH:MM:SS' in the shop's zone, the format the importer reads back; sub-seconds
 * are dropped. The zone's offset is looked up once per UTC hour, and again for the exact instant when
 * the offset changes within that hour.
 */
export function createLocalFormatter(timeZone: string): (at: Date) => string {
  const formatter = zoneFormatter(timeZone);
  const offsetAt = (ms: number) => {
    const parts: Record<string, number> = {};
    for (const p of formatter.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
    return local - Math.floor(ms / 1000) * 1000;
  };
  const hours = new Map<number, number | null>();
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (at) => {
    const ms = Math.floor(at.getTime() / 1000) * 1000;
    const hour = Math.floor(ms / 3_600_000);
    let offset = hours.get(hour);
    if (offset === undefined) {
      const start = offsetAt(hour * 3_600_000);
      offset = start === offsetAt(hour * 3_600_000 + 3_599_000) ? start : null;
      hours.set(hour, offset);
    }
    const local = new Date(ms + (offset ?? offsetAt(ms)));
    return (
      `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
      `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`
    );
  };
}

/**
 * Integer ids for the legacy tables: a row that came from the legacy import keeps its legacy id; a row
 * created in Stockgraph takes the next id above the highest legacy id of that table, in the order rows
 * are read ((created_at, id)), so the same data always gets the same ids.
 */
export class IdAllocator {
  private next: number;
  /** new id → exported id: of every row, or (for the big tables) of the created rows only. */
  readonly ids = new Map<string, number>();
  created = 0;

  constructor(
    maxLegacyId: number,
    private readonly remember: 'all' | 'created' = 'all',
  ) {
    this.next = maxLegacyId + 1;
  }

  assign(id: string, legacyId: number | undefined): number {
    if (legacyId !== undefined) {
      if (this.remember === 'all') this.ids.set(id, legacyId);
      return legacyId;
    }
    const exported = this.next++;
    this.created++;
    this.ids.set(id, exported);
    return exported;
  }
}
