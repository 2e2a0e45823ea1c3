// The migration Job runs the repository's db:migrate (@stockgraph/ops); this package only gives it an
// entry of its own so that `pnpm build` compiles it and `pnpm deploy` prunes its dependencies like a
// service's.
import { exitOnConfigError } from '@stockgraph/config';
// The subpath, not the index: the job needs the migrations, not the demo template and the rest.
import { migrateDatabases } from '@stockgraph/ops/migrate';

try {
  await migrateDatabases();
} catch (error) {
  exitOnConfigError(error);
}
