/**
 * `pnpm start`: scripts/start.ts, run from a bundle (see launcher/bundle.mjs) rather than through tsx.
 */
import { bundled } from './launcher/bundle.mjs';

await import(await bundled('scripts/start.ts'));
