import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { dataPolicies, readFieldRules, type FieldRule, type Identity } from '@stockgraph/auth';
import { ForbiddenError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import {
  Kind,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { deniedFields } from '../authorization.plugin.js';

/** The supergraph as subscriptions need it: the API schema to validate against and its field rules. */
export interface SupergraphView {
  schema: GraphQLSchema;
  rules: Map<string, FieldRule>;
  policies: ReadonlySet<string>;
}

/** Keeps the current supergraph in view, reloaded with the gateway's own (an Apollo plugin). */
export function supergraphView<C extends BaseContext>() {
  let current: SupergraphView | null = null;
  const plugin: ApolloServerPlugin<C> = {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema, coreSupergraphSdl }) {
          if (!coreSupergraphSdl) return;
          const rules = readFieldRules(parse(coreSupergraphSdl));
          current = { schema: apiSchema, rules, policies: dataPolicies(rules.values()) };
        },
      };
    },
  };
  return { plugin, current: () => current };
}

/**
 * The subscription's check at subscribe time: the very walk the gateway runs before planning a query
 * (authorization.plugin.ts), over every field selected on the subscription, through fragments and
 * aliases. Every denied field is named, as for queries.
 */
export function authorizeSubscription(
  view: SupergraphView,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  identity: Identity | null,
): void {
  const fragments = document.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  const { denied, unauthenticated } = deniedFields(
    view.schema,
    view.rules,
    view.policies,
    operation,
    fragments,
    variables,
    identity,
  );
  if (denied.length === 0) return;
  const fields = [...new Set(denied.map((d) => d.field))].join(', ');
  if (unauthenticated && !identity) throw new UnauthenticatedError(`Sign in to use ${fields}`, { denied });
  throw new ForbiddenError(`Your role may not use ${fields}`, { denied });
}

/**
 * Whether a query's answer can depend on who asks beyond their role (a field with an ownership
 * policy, such as a user's email): then events are resolved per user, otherwise once per role.
 */
export function dependsOnUser(view: SupergraphView, query: DocumentNode): boolean {
  const typeInfo = new TypeInfo(view.schema);
  let depends = false;
  visit(
    query,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const rule = parent && view.rules.get(`${parent.name}.${node.name.value}`);
        if (rule?.policies?.some((all) => all.some((p) => view.policies.has(p)))) depends = true;
      },
    }),
  );
  return depends;
}
