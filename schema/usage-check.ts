import {
  argumentCoordinate,
  fieldCoordinate,
  openUsageReader,
  redactUrl,
  usageByClient,
  usageRecordedSince,
  UsageStoreError,
} from '@stockgraph/usage';

/** What real traffic says about one breaking change: which client versions used what it changes. */
export interface ClientUsage {
  client: string;
  version: string;
  /** Operations within the window (estimated when the gateway sampled). */
  count: number;
  /** ISO time of the last use. */
  lastSeen: string;
  /** The coordinates of the change this client used. */
  coordinates: string[];
}

/** The coordinates whose use means a client is hit by a change. */
export interface UsageTargets {
  /** Used exactly. */
  coordinates: string[];
  /** Any coordinate of these types: a removed type breaks whoever used any of its members. */
  types: string[];
}

const TYPE_WIDE = new Set(['TYPE_REMOVED', 'TYPE_KIND_CHANGED', 'OBJECT_TYPE_INTERFACE_REMOVED']);

function becameRequired(change: { type: string; meta?: Record<string, unknown> }): boolean {
  const newType = change.meta?.newArgumentType ?? change.meta?.newInputFieldType;
  return String(newType ?? '').endsWith('!');
}

/**
 * The coordinates a breaking change of the API schema hits, from inspector's path (`Type`,
 * `Type.field`, `Type.field.argument`, `Input.field`, `Enum.VALUE`, a directive usage after `.@`).
 * A change that adds a requirement (a required argument or input field) hits everyone using the
 * parent. Undefined when the path says nothing usage can answer (schema-level and directive changes):
 * such a change is gated as without --usage.
 */
export function usageTargets(change: {
  type: string;
  path?: string;
  meta?: Record<string, unknown>;
}): UsageTargets | undefined {
  const path = change.path?.replace(/\.?@.*$/, '');
  if (!path) return undefined;
  const [type, member, argument, ...rest] = path.split('.');
  if (!type || rest.length > 0) return undefined;
  if (member === undefined) {
    if (change.type === 'UNION_MEMBER_REMOVED' && typeof change.meta?.removedUnionMemberTypeName === 'string')
      return { coordinates: [], types: [change.meta.removedUnionMemberTypeName] };
    return TYPE_WIDE.has(change.type) ? { coordinates: [], types: [type] } : undefined;
  }
  if (argument === undefined) {
    if (change.type === 'INPUT_FIELD_ADDED') return { coordinates: [], types: [type] };
    if (change.type === 'INPUT_FIELD_TYPE_CHANGED' && becameRequired(change))
      return { coordinates: [fieldCoordinate(type, member)], types: [type] };
    return { coordinates: [fieldCoordinate(type, member)], types: [] };
  }
  if (change.type === 'FIELD_ARGUMENT_ADDED') return { coordinates: [fieldCoordinate(type, member)], types: [] };
  const coordinates = [argumentCoordinate(type, member, argument)];
  if (change.type === 'FIELD_ARGUMENT_TYPE_CHANGED' && becameRequired(change))
    coordinates.push(fieldCoordinate(type, member));
  return { coordinates, types: [] };
}

export interface UsageLookup {
  database: string;
  days: number;
  /** The first hour the store holds: a window reaching further back says less than it seems. */
  recordedSince: string;
  /** Who used the targets of each change within the window, busiest first, in the order asked. */
  lookUp(targets: UsageTargets[]): Promise<ClientUsage[][]>;
  close(): Promise<void>;
}

/**
 * Connects to the usage store the gateway records into, refusing one it cannot reach, without the
 * usage table or with nothing recorded (UsageStoreError), before any work is done.
 */
export async function openUsageLookup(url: string, days: number): Promise<UsageLookup> {
  const sql = await openUsageReader(url);
  let recordedSince: Date | null;
  try {
    recordedSince = await usageRecordedSince(sql);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw error;
  }
  // Nothing recorded would call every break unused: far likelier a gateway not recording here.
  if (!recordedSince) {
    await sql.end({ timeout: 0 });
    throw new UsageStoreError(
      `${redactUrl(url)} holds no recorded usage: is a gateway recording into it (USAGE_DATABASE_URL)?`,
    );
  }
  return {
    database: redactUrl(url),
    days,
    recordedSince: recordedSince.toISOString(),
    close: () => sql.end({ timeout: 5 }),
    lookUp: async (targets) => {
      const rows = await usageByClient(sql, {
        coordinates: [...new Set(targets.flatMap((t) => t.coordinates))],
        types: [...new Set(targets.flatMap((t) => t.types))],
        days,
      });
      return targets.map((target) => {
        const exact = new Set(target.coordinates);
        const types = new Set(target.types);
        const byClient = new Map<string, ClientUsage>();
        for (const row of rows) {
          if (!exact.has(row.coordinate) && !types.has(row.coordinate.split('.')[0]!)) continue;
          const key = `${row.clientName}\u0000${row.clientVersion}`;
          const entry = byClient.get(key);
          const lastSeen = row.lastSeen.toISOString();
          if (!entry) {
            byClient.set(key, {
              client: row.clientName,
              version: row.clientVersion,
              count: row.count,
              lastSeen,
              coordinates: [row.coordinate],
            });
            continue;
          }
          // Several coordinates of one change (a type's members) used by the same operations: the
          // busiest stands for them, since one operation using two members is still one operation.
          entry.count = Math.max(entry.count, row.count);
          if (lastSeen > entry.lastSeen) entry.lastSeen = lastSeen;
          entry.coordinates.push(row.coordinate);
        }
        return [...byClient.values()].sort((a, b) => b.count - a.count || a.client.localeCompare(b.client));
      });
    },
  };
}
