import type { Connection } from '@stockgraph/graphql-kit';
import type { CustomerRow } from './db/schema.js';

/** `totalCount` is resolved only when asked for, from the filter carried here. */
export type CustomerConnection = Connection<CustomerRow> & { search: string | null; withContact: boolean };
