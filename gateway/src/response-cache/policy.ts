import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

/**
 * Which answers the response cache may keep, and for whom. A query is cacheable when every type it
 * selects has a policy; its entry lives as long as the shortest of them, and is kept per user when any
 * of them says `user` (its fields depend on who asks, not only on the role: an order's owner, a user's
 * own email), else per role and scopes. Types without a policy (statistics, anything added later)
 * make the query pass through uncached until someone decides.
 */
export type CacheScope = 'role' | 'user';

export interface TypePolicy {
  maxAgeSeconds: number;
  scope: CacheScope;
}

/**
 * The shipped policy (RESPONSE_CACHE_TYPES replaces it). Ages are only a backstop: entries are dropped
 * when the entities in them change (invalidation.ts). Orders and users are per user: the orders
 * subgraph decides some order fields by who placed the order, the users subgraph a user's email by who
 * asks.
 */
export const DEFAULT_TYPE_POLICIES = [
  'Product=60',
  'ProductConnection=60',
  'ProductEdge=60',
  'PriceChange=60',
  'StockMovement=60',
  'StockMovementConnection=60',
  'StockMovementEdge=60',
  'Customer=60',
  'CustomerConnection=60',
  'CustomerEdge=60',
  'PageInfo=60',
  'Order=60:user',
  'OrderConnection=60:user',
  'OrderEdge=60:user',
  'OrderItem=60:user',
  'OrderRejection=60:user',
  'RejectedProduct=60:user',
  'User=60:user',
].join(',');

/** `Type=seconds[:role|user]`, comma-separated; throws with the entry at fault. */
export function parseTypePolicies(text: string): Map<string, TypePolicy> {
  const policies = new Map<string, TypePolicy>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\d{1,6})(?::(role|user))?$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not Type=seconds[:role|user]`);
    const maxAgeSeconds = Number(match[2]);
    if (maxAgeSeconds < 1 || maxAgeSeconds > 86_400) throw new Error(`"${entry}": seconds must be 1..86400`);
    policies.set(match[1]!, { maxAgeSeconds, scope: (match[3] as CacheScope | undefined) ?? 'role' });
  }
  return policies;
}

/**
 * Fields whose value another subgraph computes from a different type's rows: an entry holding one is
 * dropped whenever any entity of that type changes (a customer's order count when an order is placed).
 */
const DERIVED_FROM: Record<string, string> = {
  'Customer.orders': 'Order',
  'Customer.orderCount': 'Order',
  'Customer.lifetimeValue': 'Order',
  'Product.unitsSold': 'Order',
};

/**
 * Lists whose members depend on stock: `products(filter: { lowStock })`. They carry this tag besides
 * the product type's, so a stock change that may move a product across its reorder level drops them,
 * while the catalogue's other lists stay (invalidation.ts).
 */
export const STOCK_FILTERED_PRODUCTS = 'Product:lowStock';

/** Whether a `products` field may filter by stock: its filter says lowStock, or comes whole from a variable. */
function filtersByStock(node: FieldNode): boolean {
  const filter = node.arguments?.find((a) => a.name.value === 'filter')?.value;
  if (!filter) return false;
  if (filter.kind !== Kind.OBJECT) return filter.kind === Kind.VARIABLE;
  return filter.fields.some((f) => f.name.value === 'lowStock');
}

export type CachePlan =
  | { cacheable: false; reason: string }
  | {
      cacheable: true;
      maxAgeSeconds: number;
      scope: CacheScope;
      /**
       * Tags every entry of this operation carries whatever its data: the element types of its lists
       * (a new or changed entity may join or leave any list of its type) and the types its derived
       * fields come from.
       */
      typeTags: string[];
    };

/** What a list holds: a connection's edges stand for their nodes. */
function memberType(type: GraphQLObjectType): GraphQLObjectType {
  const node = type.getFields().node;
  const named = node && getNamedType(node.type);
  return named && isObjectType(named) ? named : type;
}

/**
 * What the policy says of one operation, from its document alone (so it is worked out once per
 * document): every fragment of the document counts, used or not, which can only make it stricter.
 */
export function planOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  policies: ReadonlyMap<string, TypePolicy>,
): CachePlan {
  if (operation.operation !== 'query') return { cacheable: false, reason: operation.operation };
  let maxAgeSeconds = Infinity;
  let scope: CacheScope = 'role';
  let uncacheable: string | null = null;
  const typeTags = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const definitions = document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION);
  for (const definition of definitions) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          if (uncacheable) return;
          const name = node.name.value;
          if (name.startsWith('__')) {
            // __typename is plain data; __schema and __type are introspection, cheap and not ours to keep.
            if (name !== '__typename') uncacheable = name;
            return;
          }
          const parent = typeInfo.getParentType();
          const derived = parent ? DERIVED_FROM[`${parent.name}.${name}`] : undefined;
          if (derived) typeTags.add(derived);
          const fieldType = typeInfo.getType();
          if (!fieldType) return;
          const named = getNamedType(fieldType);
          if (!isCompositeType(named)) return;
          // No interface or union in the API today: an abstract type would need __typename in every
          // answer to be tagged per entity, so it is not cached rather than tagged wrongly.
          if (!isObjectType(named)) {
            uncacheable = named.name;
            return;
          }
          const policy = policies.get(named.name);
          if (!policy) {
            uncacheable = named.name;
            return;
          }
          maxAgeSeconds = Math.min(maxAgeSeconds, policy.maxAgeSeconds);
          if (policy.scope === 'user') scope = 'user';
          if (isListType(getNullableType(fieldType))) typeTags.add(memberType(named).name);
          if (parent?.name === 'Query' && name === 'products' && filtersByStock(node))
            typeTags.add(STOCK_FILTERED_PRODUCTS);
        },
      }),
    );
  }
  if (uncacheable) return { cacheable: false, reason: `no cache policy for ${uncacheable}` };
  // A query of scalars only (none today: every root field returns an object) is not worth keeping.
  if (maxAgeSeconds === Infinity) return { cacheable: false, reason: 'no object selected' };
  return { cacheable: true, maxAgeSeconds, scope, typeTags: [...typeTags] };
}
