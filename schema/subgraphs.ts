import { defaultPort, sdlPath, SUBGRAPHS } from '@stockgraph/registry';

/**
 * The subgraphs composed into the supergraph (from the registry), with the routing URLs written into
 * it. Deployments override each URL in the gateway's environment (USERS_URL, ...), so the committed
 * file is stable.
 */
export const subgraphs = [
  ...SUBGRAPHS.map((entry) => ({
    name: entry.name,
    sdl: sdlPath(entry),
    url: `http://127.0.0.1:${defaultPort(entry)}/graphql`,
  })),
  // The gateway's own part (submitBatch): served inside the gateway process, never over HTTP, so it is
  // no service of the registry. The URL only names it.
  { name: 'offline', sdl: 'gateway/src/offline/schema.graphql', url: 'http://gateway.local/offline' },
];
