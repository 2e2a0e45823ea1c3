/**
 * The subgraphs composed into the supergraph, with the routing URLs written into it. Deployments
 * override each URL in the gateway's environment (USERS_URL, ...), so the committed file is stable.
 */
export const subgraphs = [
  { name: 'users', sdl: 'subgraphs/users/src/schema.graphql', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'inventory', sdl: 'subgraphs/inventory/src/schema.graphql', url: 'http://127.0.0.1:4002/graphql' },
  { name: 'orders', sdl: 'subgraphs/orders/src/schema.graphql', url: 'http://127.0.0.1:4003/graphql' },
  { name: 'customers', sdl: 'subgraphs/customers/src/schema.graphql', url: 'http://127.0.0.1:4004/graphql' },
] as const;
