import { DateTimeScalar } from '@stockgraph/graphql-kit';
import type { Resolvers } from '../generated/resolvers.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { User } from './User.js';
import { UserConnection } from './UserConnection.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  User,
  UserConnection,
};
