import type { Connection } from '@stockgraph/graphql-kit';
import type { UserRow } from './db/schema.js';

export type UserConnection = Connection<UserRow>;
