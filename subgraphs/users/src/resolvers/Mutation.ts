import type { Identity } from '@stockgraph/auth';
import { parseId, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { MutationResolvers } from '../generated/resolvers.js';

const signedIn = ({ identity }: { identity: Identity | null }): Identity => {
  if (!identity) throw new UnauthenticatedError();
  return identity;
};

export const Mutation: MutationResolvers = {
  login: (_parent, { email, password }, { users, clientAddress }) => users.login(email, password, clientAddress),

  refreshSession: (_parent, { refreshToken }, { users }) => users.refresh(refreshToken),

  logout: (_parent, { refreshToken }, context) => context.users.logout(signedIn(context), refreshToken),

  createUser: (_parent, { input }, { users }) => users.createUser(input),

  updateUser: (_parent, { id, input }, { users }) => users.updateUser(parseId(id), input),

  changePassword: (_parent, { currentPassword, newPassword }, context) =>
    context.users.changePassword(signedIn(context), currentPassword, newPassword),

  unlockSignIn: (_parent, { email, address }, { users }) => users.unlockSignIn(email, address),
};
