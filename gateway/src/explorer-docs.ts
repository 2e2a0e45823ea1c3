import { dataPolicies, PUBLIC_POLICY, readFieldRules, ROLES, roleScope, type FieldRule } from '@stockgraph/auth';
import { introspectionFromSchema, parse, type GraphQLSchema, type IntrospectionQuery } from 'graphql';

const ROLE_OF_SCOPE = new Map<string, string>(ROLES.map((role) => [roleScope(role), role]));

/** One AND-group of scopes in words: a role scope reads "MANAGER and up", since each role holds those below. */
function scopesInWords(all: string[]): string {
  return all
    .map((scope) => (ROLE_OF_SCOPE.has(scope) ? `${ROLE_OF_SCOPE.get(scope)} and up` : `scope "${scope}"`))
    .join(' with ');
}

/**
 * Who may use a field, in words, from the same rule the gateway enforces (`decide` in @stockgraph/auth):
 * no rule denies, `public` lets anyone in, scopes name the lowest role, and every other policy is
 * checked by the owning service with data.
 */
export function describeRule(rule: FieldRule | undefined, policies: ReadonlySet<string>): string {
  if (!rule) return 'nobody (the field has no rule, so it is denied)';
  const isPublic = rule.policies?.some((all) => all.length > 0 && all.every((p) => p === PUBLIC_POLICY)) ?? false;
  if (isPublic && !rule.authenticated && !rule.scopes) return 'anyone, signed in or not';
  const who = rule.scopes?.length ? rule.scopes.map(scopesInWords).join(', or ') : 'any signed-in user';
  const checked = (rule.policies ?? [])
    .filter((all) => !all.every((p) => p === PUBLIC_POLICY))
    .map((all) => all.map((p) => (policies.has(p) ? `"${p}"` : `"${p}" (unknown: denied)`)).join(' and '));
  if (checked.length === 0) return who;
  return `${who}, where the ${checked.join(' or ')} policy allows (checked by the owning service)`;
}

/**
 * The schema the explorer shows: the API schema's introspection with every field's description ending
 * in who may use it, read from the supergraph's authorization directives. Only the explorer gets this;
 * introspection at /graphql answers with the descriptions as the subgraphs wrote them.
 */
export function explorerIntrospection(apiSchema: GraphQLSchema, coreSupergraphSdl: string): IntrospectionQuery {
  const rules = readFieldRules(parse(coreSupergraphSdl));
  const policies = dataPolicies(rules.values());
  const introspection = introspectionFromSchema(apiSchema, {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
  });
  const roots = {
    [introspection.__schema.mutationType?.name ?? 'Mutation']: 'Callable by',
    [introspection.__schema.subscriptionType?.name ?? 'Subscription']: 'Subscribable by',
  };
  for (const type of introspection.__schema.types) {
    if ((type.kind !== 'OBJECT' && type.kind !== 'INTERFACE') || type.name.startsWith('__')) continue;
    const verb = roots[type.name] ?? 'Readable by';
    for (const field of type.fields) {
      const who = `${verb}: ${describeRule(rules.get(`${type.name}.${field.name}`), policies)}.`;
      // In its first paragraph: a type's field list shows only that one.
      const [first, ...rest] = (field.description ?? '').split('\n\n');
      (field as { description?: string | null }).description = [first ? `${first} ${who}` : who, ...rest].join('\n\n');
    }
  }
  return introspection;
}

/**
 * The explorer's schema as JSON, kept in step with the gateway's schema: built on the first request
 * after each load or reload of the supergraph, so a gateway nobody explores never builds it.
 */
export function explorerSchemaJson(gateway: {
  onSchemaLoadOrUpdate(callback: (schema: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void): unknown;
}): () => string | null {
  let current: { apiSchema: GraphQLSchema; coreSupergraphSdl: string } | null = null;
  let json: string | null = null;
  gateway.onSchemaLoadOrUpdate((schema) => {
    current = schema;
    json = null;
  });
  return () => {
    if (!current) return null;
    json ??= JSON.stringify(explorerIntrospection(current.apiSchema, current.coreSupergraphSdl));
    return json;
  };
}
