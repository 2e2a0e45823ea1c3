/**
 * What one legacy row became in Stockgraph, as a unit a later sync can compare: the legacy row, the
 * Stockgraph rows written for it, and a digest of those rows. The import stores each unit's new id and
 * digest in `legacy_import.id_map`; `import sqlite --sync` plans the changed file again, and a unit
 * whose digest differs (or that is new, or gone) is all it writes.
 */
import { hash } from 'node:crypto';
import type { Planner, Row } from './plan.js';
import type { StoredUnit } from '../db/import.repository.js';
import { PLACEHOLDER_ID_MAP } from './mapping.js';

/** `legacy_import.id_map.legacy_table` of the one ledger row per product that brings it to products.stock. */
export const RECONCILIATION_ID_MAP = 'reconciliation';

export type UnitTable =
  | 'users'
  | 'customers'
  | 'products'
  | typeof PLACEHOLDER_ID_MAP
  | 'orders'
  | 'inventory_log'
  | typeof RECONCILIATION_ID_MAP;

export interface Unit {
  table: UnitTable;
  legacyId: number;
  newId: string;
  digest: string;
}

/** 96 bits of SHA-1 over the rows' JSON: a change anywhere in them changes it. */
export const digestOf = (rows: unknown): string => hash('sha1', JSON.stringify(rows), 'base64').slice(0, 16);

const byColumn = (rows: Row[], column: string) => new Map(rows.map((r) => [String(r[column]), r]));

/** Users or customers: one row each, under the id the planner gave it. */
export const entityUnits = (table: 'users' | 'customers', ids: Map<number, string>, rows: Row[]): Unit[] => {
  const byId = byColumn(rows, 'id');
  return [...ids].map(([legacyId, newId]) => ({ table, legacyId, newId, digest: digestOf(byId.get(newId)) }));
};

/**
 * Products (a merged duplicate is a unit too: its id is its survivor's, and it changes when the
 * survivor does) and placeholders, each with its price row.
 */
export const productUnits = (planner: Planner, catalog: { products: Row[]; prices: Row[] }): Unit[] => {
  const products = byColumn(catalog.products, 'id');
  const prices = byColumn(catalog.prices, 'product_id');
  const rows = (id: string) => digestOf([products.get(id), prices.get(id)]);
  return [
    ...[...planner.products].map(([legacyId, target]): Unit => ({
      table: 'products',
      legacyId,
      newId: target.id,
      digest: target.survivor === legacyId ? rows(target.id) : digestOf({ mergedInto: target.survivor }),
    })),
    ...[...planner.placeholders].map(([legacyId, placeholder]): Unit => ({
      table: PLACEHOLDER_ID_MAP,
      legacyId,
      newId: placeholder.id,
      digest: rows(placeholder.id),
    })),
  ];
};

/** An order with its lines. */
export const orderUnits = (chunk: { orders: Row[]; items: Row[] }): Unit[] => {
  const items = new Map<string, Row[]>();
  for (const item of chunk.items) {
    const list = items.get(String(item.order_id));
    if (list) list.push(item);
    else items.set(String(item.order_id), [item]);
  }
  return chunk.orders.map((o) => ({
    table: 'orders',
    legacyId: Number(o.legacy_id),
    newId: String(o.id),
    digest: digestOf([o, items.get(String(o.id))]),
  }));
};

/** Log rows, or (RECONCILIATION_ID_MAP) the reconciling movements keyed by their product's legacy id. */
export const movementUnits = (table: 'inventory_log' | typeof RECONCILIATION_ID_MAP, movements: Row[]): Unit[] =>
  movements.map((m) => ({ table, legacyId: Number(m.legacy_id), newId: String(m.id), digest: digestOf(m) }));

/** What changed for one unit table: units to write (new or changed) and what they replace or lose. */
export interface Changes {
  write: Unit[];
  /** New ids whose rows are replaced or gone (a changed unit whose id moved, or any gone unit). */
  remove: string[];
  /** Legacy ids no longer in the file's plan. */
  gone: number[];
  /** Units planned again under the id they had (changed or not). */
  kept: number;
}

export const emptyChanges = (): Changes => ({ write: [], remove: [], gone: [], kept: 0 });

/**
 * Compares a unit planned again with the one stored, which it takes out of `stored` (what is left
 * there at the end is gone: goneUnits). True when the unit is new or changed and must be written.
 */
export function compareUnit(unit: Unit, stored: Map<number, StoredUnit> | undefined, changes: Changes): boolean {
  const before = stored?.get(unit.legacyId);
  if (before) stored!.delete(unit.legacyId);
  if (before?.newId === unit.newId) changes.kept++;
  if (before && before.digest === unit.digest && before.newId === unit.newId) return false;
  changes.write.push(unit);
  if (before) changes.remove.push(before.newId);
  return true;
}

/** The stored units not planned again: gone from the file, or quarantined now. */
export function goneUnits(stored: Map<number, StoredUnit>, changes: Changes): void {
  for (const [legacyId, unit] of stored) {
    changes.gone.push(legacyId);
    changes.remove.push(unit.newId);
  }
}
