// The migration Job runs the repository's db:migrate; this package only gives it an entry of its own so
// that `pnpm build` compiles it and `pnpm deploy` prunes its dependencies like a service's. It calls the
// function itself: a bundle cannot tell whether it is scripts/db-migrate.ts run directly.
import { exitOnConfigError } from '@stockgraph/config';
import { migrateDatabases } from '../../../scripts/db-migrate.js';

try {
  await migrateDatabases();
} catch (error) {
  exitOnConfigError(error);
}
