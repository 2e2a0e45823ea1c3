import type { ApolloServerPlugin } from '@apollo/server';
import { dataPolicies, decide, readFieldRules, type FieldRule, type Identity } from '@stockgraph/auth';
import { ForbiddenError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import {
  getNamedType,
  getVariableValues,
  isObjectType,
  Kind,
  parse,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ServiceMetrics } from '@stockgraph/server';
import { inSpan } from '@stockgraph/telemetry';
import { authorizationCache } from './authorization-cache.js';

export interface Denial {
  /** Response path, aliases included, e.g. "orders.edges.node.customer.phone". */
  path: string;
  /** The schema coordinate whose rule denied it, e.g. "Customer.phone". */
  field: string;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Coerced variables, defaults applied; null when they do not coerce. */
  variables: Record<string, unknown> | null;
  rules: Map<string, FieldRule>;
  /** Policies the subgraphs check with data (ownership); here they only require a signed-in caller. */
  dataPolicies: ReadonlySet<string>;
  identity: Identity | null;
  denied: Denial[];
  unauthenticated: boolean;
}

/** The value of an `if:` argument; null when it cannot be known (then the selection counts as run). */
function conditionValue(value: ValueNode, variables: Record<string, unknown> | null): boolean | null {
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE && variables) {
    const given = variables[value.name.value];
    return typeof given === 'boolean' ? given : null;
  }
  return null;
}

/**
 * Whether @skip/@include leave this selection in; a field that will not run cannot leak anything.
 * Anything uncertain counts as included, so doubt always means checking the field.
 */
function included(
  node: {
    directives?: readonly {
      name: { value: string };
      arguments?: readonly { name: { value: string }; value: ValueNode }[];
    }[];
  },
  variables: Record<string, unknown> | null,
) {
  for (const directive of node.directives ?? []) {
    const condition = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    if (!condition) continue;
    const value = conditionValue(condition, variables);
    if (directive.name.value === 'skip' && value === true) return false;
    if (directive.name.value === 'include' && value === false) return false;
  }
  return true;
}

function walk(state: Walk, typeName: string, selectionSet: SelectionSetNode, path: string[], seen: Set<string>): void {
  const type = state.schema.getType(typeName);
  for (const selection of selectionSet.selections) {
    if (!included(selection, state.variables)) continue;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      walk(state, selection.typeCondition?.name.value ?? typeName, selection.selectionSet, path, seen);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = state.fragments.get(selection.name.value);
      // Guard against fragment cycles; validation rejects them, but never loop here.
      const key = `${selection.name.value}@${path.join('.')}`;
      if (fragment && !seen.has(key))
        walk(state, fragment.typeCondition.name.value, fragment.selectionSet, path, new Set(seen).add(key));
      continue;
    }
    const name = selection.name.value;
    if (name.startsWith('__')) continue; // __typename, __schema, __type: introspection is governed separately
    const responsePath = [...path, selection.alias?.value ?? name];
    if (!isObjectType(type)) continue;
    const coordinate = `${typeName}.${name}`;
    const decision = decide(state.rules.get(coordinate), state.identity, state.dataPolicies);
    if (decision !== 'allow') {
      state.denied.push({ path: responsePath.join('.'), field: coordinate });
      if (decision === 'unauthenticated') state.unauthenticated = true;
      continue;
    }
    const field = type.getFields()[name];
    if (field && selection.selectionSet)
      walk(state, getNamedType(field.type).name, selection.selectionSet, responsePath, seen);
  }
}

/** Every field the operation would run that the caller may not use, through fragments and aliases. */
export function deniedFields(
  schema: GraphQLSchema,
  rules: Map<string, FieldRule>,
  policies: ReadonlySet<string>,
  operation: OperationDefinitionNode,
  fragments: FragmentDefinitionNode[],
  rawVariables: Record<string, unknown>,
  identity: Identity | null,
): { denied: Denial[]; unauthenticated: boolean } {
  // As graphql-js will see them: a variable left out takes its default (`$x: Boolean = true`).
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables);
  const variables = coerced.coerced ?? null;
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const state: Walk = {
    schema,
    fragments: new Map(fragments.map((f) => [f.name.value, f])),
    variables,
    rules,
    dataPolicies: policies,
    identity,
    denied: [],
    unauthenticated: false,
  };
  if (root) walk(state, root.name, operation.selectionSet, [], new Set());
  return { denied: state.denied, unauthenticated: state.unauthenticated };
}

export interface AuthorizationContext {
  identity: Identity | null;
  /** A refused token: the answer for any operation that needs a signed-in caller. */
  tokenError?: Error | null;
}

/**
 * Checks the whole operation against the rules composed into the supergraph before the gateway
 * plans it: a denied operation is answered here and reaches no subgraph. The rules are re-read
 * whenever the supergraph changes. We reject the operation rather than null the denied fields:
 * a client gets one clear answer naming every denied path instead of data with holes.
 */
export function authorizationPlugin<C extends AuthorizationContext>(
  metrics?: Pick<ServiceMetrics, 'denials' | 'cacheLookup'>,
): ApolloServerPlugin<C> {
  let rules = new Map<string, FieldRule>();
  const decisions = authorizationCache((hit) => metrics?.cacheLookup('authorization_decision', hit));
  let policies: ReadonlySet<string> = new Set();
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ coreSupergraphSdl }) {
          if (!coreSupergraphSdl) return;
          rules = readFieldRules(parse(coreSupergraphSdl));
          policies = dataPolicies(rules.values());
          decisions.clear();
        },
      };
    },
    async requestDidStart() {
      return {
        // A span of its own, so a trace shows the decision and, for a denial, the fields and the error.
        didResolveOperation: ({ operation, document, schema, request, contextValue }) =>
          inSpan('gateway.authorize', {}, async (span) => {
            const fragments = document.definitions.filter(
              (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
            );
            if (!operation) return; // graphql-js has already refused a document without a runnable operation
            const { identity } = contextValue;
            const { denied, unauthenticated } = decisions.decide(document, operation, identity?.scopes ?? null, () =>
              deniedFields(schema, rules, policies, operation, fragments, request.variables ?? {}, identity),
            );
            span.setAttribute('stockgraph.authorization.outcome', denied.length === 0 ? 'allowed' : 'denied');
            if (denied.length === 0) return;
            const coordinates = [...new Set(denied.map((d) => d.field))];
            span.setAttribute('stockgraph.authorization.denied_fields', coordinates);
            // Coordinates are the schema's (the operation validated), so the label stays bounded.
            const decision =
              contextValue.tokenError || (unauthenticated && !identity) ? 'unauthenticated' : 'forbidden';
            for (const rule of coordinates) metrics?.denials.inc({ rule, decision });
            if (contextValue.tokenError) throw contextValue.tokenError;
            const fields = coordinates.join(', ');
            if (unauthenticated && !contextValue.identity) {
              throw new UnauthenticatedError(`Sign in to use ${fields}`, { denied, http: { status: 401 } });
            }
            throw new ForbiddenError(`Your role may not use ${fields}`, { denied, http: { status: 403 } });
          }),
      };
    },
  };
}
