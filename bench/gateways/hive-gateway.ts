/**
 * Hive Gateway runtime on the same supergraph, for `pnpm bench:gateway`: header forwarding, trusted
 * documents by hash (so the persisted scenario compares like with like), and with `--rust` the Rust
 * query planner of @graphql-hive/router-runtime.
 */
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import { announce, targetEnv } from './target-env.js';

const rust = process.argv.includes('--rust');
const { supergraphSdl, secret, secretHeader, documents } = targetEnv();

const gateway = createGatewayRuntime({
  supergraph: supergraphSdl,
  ...(rust ? { unifiedGraphHandler } : {}),
  logging: 'error',
  // A subgraph's refusal (the denied scenario) reaches the client with its code, as with the others.
  maskedErrors: false,
  landingPage: false,
  graphqlEndpoint: '/graphql',
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization') ?? '',
      [secretHeader]: secret,
    }),
  },
  persistedDocuments: {
    getPersistedOperation: (hash: string) => documents.get(hash) ?? null,
    allowArbitraryDocuments: true,
  },
});
// The handler answers asynchronously; node:http ignores what a request listener returns.
const server = createServer((request, response) => void gateway(request, response));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  announce(rust ? 'hive-gateway-rust' : 'hive-gateway', `http://127.0.0.1:${address.port}/graphql`);
});
