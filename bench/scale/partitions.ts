import postgres from 'postgres';

/** Scans (sequential + index) so far of every partition in the database, from the statistics system. */
type Scans = Map<string, { parent: string; scans: number }>;

/**
 * Which partitions an operation's SQL touched, measured rather than read from plans: the difference in
 * each partition's scan counters (pg_stat_user_tables) across one run of the operation. A partition
 * pruned at plan or execution time is never scanned, so it does not count. Backends publish their
 * counters at most once a second and otherwise after 10 s idle (PostgreSQL 15), hence the wait.
 */
export function partitionProbe(url: string, waitMs: number) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const snapshot = async (): Promise<Scans> => {
    const rows = await sql<{ name: string; parent: string; scans: number }[]>`
      select c.relname as name, p.relname as parent,
             (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0))::float8 as scans
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      left join pg_stat_user_tables s on s.relid = c.oid
      where c.relkind = 'r'`;
    return new Map(rows.map((r) => [r.name, { parent: r.parent, scans: r.scans }]));
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, waitMs));
  let last: Scans | undefined;
  const diff = (before: Scans, after: Scans) => {
    const touched: Record<string, number> = {};
    for (const [name, { parent, scans }] of after)
      if (scans > (before.get(name)?.scans ?? 0)) touched[parent] = (touched[parent] ?? 0) + 1;
    return touched;
  };
  return {
    /**
     * Runs `work` once after everything before it has been published; returns the partitions scanned,
     * by parent table. Measure operations one after another: each settled snapshot is the next's start.
     */
    async measure(work: () => Promise<unknown>) {
      if (!last) {
        await settle();
        last = await snapshot();
      }
      await work();
      await settle();
      const after = await snapshot();
      const touched = diff(last, after);
      last = after;
      return touched;
    },
    async partitionCounts() {
      const counts: Record<string, number> = {};
      for (const { parent } of (await snapshot()).values()) counts[parent] = (counts[parent] ?? 0) + 1;
      return counts;
    },
    close: () => sql.end(),
  };
}
