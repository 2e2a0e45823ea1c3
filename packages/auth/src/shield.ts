import { ForbiddenError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { DocumentNode, GraphQLResolveInfo } from 'graphql';
import { allow, deny, rule, shield, type IRule } from 'graphql-shield';
import type { Identity } from './roles.js';
import { dataPolicies, decide, readFieldRules, type FieldRule } from './rules.js';

export interface AuthContext {
  identity: Identity | null;
}

interface PolicyCheck<C extends AuthContext> {
  // Written as a method so a policy may declare the parent its field lives on (`(order: OrderRow) =>`):
  // the shield only calls it on fields that name it, whose parent the schema fixes.
  check(
    parent: unknown,
    args: Record<string, unknown>,
    context: C,
    info: GraphQLResolveInfo,
  ): boolean | Promise<boolean>;
}

/** A data-dependent policy: true when the caller may use this field on this parent. */
export type Policy<C extends AuthContext = AuthContext> = PolicyCheck<C>['check'];

function denial(signedIn: boolean, field: string): Error {
  return signedIn
    ? new ForbiddenError(`Your role may not use ${field}`, { field })
    : new UnauthenticatedError(`Sign in to use ${field}`, { field });
}

/** Told of each field a subgraph refuses: its coordinate, and whether the caller's role or a data policy refused it. */
export type DenialListener = (rule: string, decision: 'unauthenticated' | 'forbidden' | 'policy') => void;

function toShieldRule<C extends AuthContext>(
  field: string,
  fieldRule: FieldRule,
  policies: Record<string, Policy<C>>,
  onDenied: DenialListener,
) {
  const dataPolicies = new Set(Object.keys(policies));
  const needsData = fieldRule.policies?.some((all) => all.some((p) => dataPolicies.has(p))) ?? false;
  return rule(`auth:${field}`, { cache: needsData ? 'no_cache' : 'contextual' })(
    async (parent, args, context: C, info) => {
      const decision = decide(fieldRule, context.identity, dataPolicies);
      if (decision !== 'allow') {
        const forbidden = decision !== 'unauthenticated' && !!context.identity;
        onDenied(field, forbidden ? 'forbidden' : 'unauthenticated');
        return denial(forbidden, field);
      }
      if (!needsData) return true;
      for (const all of fieldRule.policies ?? []) {
        let passed = true;
        for (const name of all) {
          const policy = policies[name];
          if (!policy || !(await policy(parent, args, context, info))) {
            passed = false;
            break;
          }
        }
        if (passed) return true;
      }
      onDenied(field, 'policy');
      return new ForbiddenError(`Not allowed to use ${field} here`, { field });
    },
  );
}

/**
 * graphql-shield rules generated from the subgraph's own SDL, so the rules written once in the schema
 * are enforced again inside the subgraph: default deny, `_service` and `_entities` open to the gateway
 * and composition tools, and every field inside an `_entities` answer checked by its own rule.
 */
export function shieldFromSchema<C extends AuthContext>(
  typeDefs: DocumentNode,
  policies: Record<string, Policy<C>> = {},
  onDenied: DenialListener = () => {},
) {
  // `_entities` needs a signed-in caller: anonymous, it would tell whether an id exists (null or not).
  const entities = rule('auth:_entities', { cache: 'contextual' })(async (_parent, _args, context: AuthContext) =>
    context.identity ? true : new UnauthenticatedError('Sign in to use _entities', { field: 'Query._entities' }),
  );
  const tree: Record<string, Record<string, IRule | typeof allow>> = {
    // A subgraph without entities has no `_entities` (buildSubgraphSchema adds it for @key types only),
    // and shield refuses a rule for a field the schema lacks.
    Query: { _service: allow, ...(declaresEntities(typeDefs) ? { _entities: entities } : {}) },
    _Service: { sdl: allow },
  };
  const rules = readFieldRules(typeDefs);
  // The gateway lets a signed-in caller through every policy the SDL names; one without code here
  // would deny every such request, so the service refuses to start instead.
  const missing = [...dataPolicies(rules.values())].filter((name) => !Object.hasOwn(policies, name));
  if (missing.length > 0)
    throw new Error(`@policy names ${missing.join(', ')}, which this service does not implement (policies.ts)`);
  for (const [key, fieldRule] of rules) {
    const [type, field] = key.split('.') as [string, string];
    tree[type] ??= {};
    tree[type][field] = toShieldRule(key, fieldRule, policies, onDenied);
  }
  return shield(tree, {
    fallbackRule: deny,
    allowExternalErrors: true,
    fallbackError: async (_thrown, _parent, _args, context, info) => {
      const signedIn = 'identity' in context && !!context.identity;
      const field = `${info.parentType.name}.${info.fieldName}`;
      onDenied(field, signedIn ? 'forbidden' : 'unauthenticated');
      return denial(signedIn, field);
    },
  });
}

/** Whether any type of the SDL is an entity (`@key`). */
function declaresEntities(typeDefs: DocumentNode): boolean {
  return typeDefs.definitions.some(
    (definition) =>
      'directives' in definition && (definition.directives ?? []).some((directive) => directive.name.value === 'key'),
  );
}
