/**
 * `pnpm start`: scripts/start.ts, run from a bundle (see packages/bundle) rather than through tsx.
 */
import { bundled } from '@stockgraph/bundle';

await import(await bundled('scripts/start.ts'));
