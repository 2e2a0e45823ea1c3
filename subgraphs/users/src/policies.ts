import { atLeast, type Policy } from '@stockgraph/auth';
import type { Context } from './context.js';
import type { UserRow } from './db/schema.js';

/**
 * The `@policy` rules this subgraph's SDL names. The gateway finds their names in the supergraph and
 * only requires a signed-in caller; these decide with the data.
 */
export const policies: Record<string, Policy<Context>> = {
  /** `User.email`: the user itself, or an administrator. */
  'self-or-admin': (user: Pick<UserRow, 'id'>, _args, { identity }) =>
    !!identity && (identity.userId === user.id || atLeast(identity.role, 'ADMIN')),
};
