import { DateTimeScalar } from '@stockgraph/graphql-kit';
import type { Resolvers } from '../generated/resolvers.js';
import { Customer } from './Customer.js';
import { CustomerConnection } from './CustomerConnection.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  Customer,
  CustomerConnection,
};
