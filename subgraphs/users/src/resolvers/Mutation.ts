import { parseId, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { MutationResolvers } from '../generated/resolvers.js';

const signedIn = <T extends { identity: unknown }>(context: T) => {
  if (!context.identity) throw new UnauthenticatedError();
  return context.identity as NonNullable<T['identity']>;
};

export const Mutation: MutationResolvers = {
  login: (_parent, { email, password }, { accounts, clientAddress }) => accounts.login(email, password, clientAddress),

  refreshSession: (_parent, { refreshToken }, { accounts }) => accounts.refresh(refreshToken),

  logout: (_parent, { refreshToken }, context) => context.accounts.logout(signedIn(context), refreshToken),

  createUser: (_parent, { input }, { accounts }) => accounts.createUser(input),

  updateUser: (_parent, { id, input }, { accounts }) => accounts.updateUser(parseId(id), input),

  changePassword: (_parent, { currentPassword, newPassword }, context) =>
    context.accounts.changePassword(signedIn(context), currentPassword, newPassword),

  unlockSignIn: (_parent, { email }, { accounts }) => accounts.unlockSignIn(email),
};
