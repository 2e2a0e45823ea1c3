// The migration Job runs `pnpm db:migrate` of the repository; this package only gives it an entry of
// its own so that `pnpm build` compiles it and `pnpm deploy` prunes its dependencies like a service's.
import '../../../scripts/db-migrate.js';
