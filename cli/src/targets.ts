import { misuse } from './errors.js';
import { type Targets } from '@stockgraph/ops';
import { databaseUrlVariable, SUBGRAPH_NAMES, subgraphEntry, type SubgraphName } from '@stockgraph/registry';

export { SUBGRAPH_NAMES, type SubgraphName } from '@stockgraph/registry';
export { resolveTargets, type Targets } from '@stockgraph/ops';

/** Commands that bulk-load or dump need a real server: say so once, clearly. */
export function requirePostgres(targets: Targets, command: string): Record<SubgraphName, string> {
  const missing = SUBGRAPH_NAMES.filter((name) => !targets.urls[name]);
  if (missing.length > 0) {
    throw misuse(
      `${command} needs PostgreSQL: set DATABASE_URL (or ${missing.map((n) => databaseUrlVariable(subgraphEntry(n))).join(', ')})`,
    );
  }
  return targets.urls as Record<SubgraphName, string>;
}

export { redactUrl } from '@stockgraph/config';
