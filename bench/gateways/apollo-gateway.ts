/**
 * Stock @apollo/gateway on @apollo/server, the baseline of `pnpm bench:gateway`: header forwarding and
 * nothing else (no authentication, authorization, limits or metrics). APQ is Apollo's default.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { forGateway } from '@stockgraph/gateway/supergraph';
import { announce, targetEnv } from './target-env.js';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const { supergraphSdl, secret, secretHeader } = targetEnv();

interface Context {
  authorization?: string;
}

const gateway = new ApolloGateway({
  supergraphSdl: forGateway(supergraphSdl),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource<Context>({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        request.http?.headers.set(secretHeader, secret);
      },
    }),
});
const server = new ApolloServer<Context>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
announce('apollo-gateway', url);
