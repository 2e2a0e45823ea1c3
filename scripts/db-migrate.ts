/**
 * `pnpm db:migrate` (also `pnpm stockgraph db migrate`): applies every subgraph's Drizzle migrations
 * and creates the partitions ahead, without starting any server (a deploy step, or a Kubernetes init
 * job). Each subgraph uses <NAME>_DATABASE_URL if set, else DATABASE_URL, else the embedded PGlite in
 * PGLITE_DIR.
 */

import { exitOnConfigError } from '@stockgraph/config';
import { migrateDatabases } from '@stockgraph/ops';

try {
  await migrateDatabases();
} catch (error) {
  exitOnConfigError(error);
}
