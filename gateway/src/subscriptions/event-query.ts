import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  OperationTypeNode,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { ServedField } from './fields.js';

/** A selected payload field: answered from the event, or by a query of its entity. */
type Part =
  | { key: string; kind: 'typename' }
  | { key: string; kind: 'local'; field: string }
  | { key: string; kind: 'entity'; field: string };

export interface EventQuery {
  /** The subscription field's response key (its alias, else its name). */
  rootKey: string;
  /** The payload's selected fields in the order the client asked for them. */
  parts: Part[];
  /** Loads every selected entity in one operation; null when the client selected none. */
  text: string | null;
  /** The client's variables the query reads; the entity ids are added per event. */
  variables: Record<string, unknown>;
  /** Variable name → the entity field whose id it carries. */
  idVariables: Record<string, string>;
}

function includedBy(node: SelectionNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  if (getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if === false) return false;
  return true;
}

/** The fields of a selection set, through fragments on the payload type, in order; @skip/@include applied. */
function collect(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  out: FieldNode[] = [],
): FieldNode[] {
  for (const selection of set.selections) {
    if (!includedBy(selection, variables)) continue;
    if (selection.kind === Kind.FIELD) out.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, fragments, variables, out);
    else {
      const fragment = fragments.get(selection.name.value);
      if (fragment) collect(fragment.selectionSet, fragments, variables, out);
    }
  }
  return out;
}

/**
 * Turns a subscription's selection into the query each event runs: every entity field of the payload
 * becomes the root query field that loads that entity (`product { sku }` → `product: product(id: $…) {
 * sku }`), with the client's sub-selection, fragments and variables, so the gateway plans it across
 * subgraphs and authorizes it like any query of the subscriber's. The document is fixed per
 * subscription (ids are variables), so it is parsed, validated and authorized once and then cached.
 */
export function buildEventQuery(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  root: FieldNode,
  field: ServedField,
): EventQuery {
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const parts: Part[] = [];
  const entitySelections = new Map<string, { field: string; selections: SelectionNode[] }>();
  for (const node of collect(root.selectionSet!, fragments, variables)) {
    const name = node.name.value;
    const key = node.alias?.value ?? name;
    if (name === '__typename') parts.push({ key, kind: 'typename' });
    else if (name in field.entities) {
      // The same response key twice merges, as graphql-js merges it.
      const merged = entitySelections.get(key);
      if (merged) merged.selections.push(...(node.selectionSet?.selections ?? []));
      else {
        entitySelections.set(key, { field: name, selections: [...(node.selectionSet?.selections ?? [])] });
        parts.push({ key, kind: 'entity', field: name });
      }
    } else if (!parts.some((p) => p.key === key)) parts.push({ key, kind: 'local', field: name });
  }
  const rootKey = root.alias?.value ?? root.name.value;
  if (entitySelections.size === 0) return { rootKey, parts, text: null, variables: {}, idVariables: {} };

  const idVariables: Record<string, string> = {};
  const selections: FieldNode[] = [...entitySelections].map(([key, { field: name, selections: inner }], i) => {
    const variable = `sgEntity${i}`;
    idVariables[variable] = name;
    return {
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: key },
      name: { kind: Kind.NAME, value: field.entities[name]! },
      arguments: [
        {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: 'id' },
          value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
        },
      ],
      selectionSet: { kind: Kind.SELECTION_SET, selections: inner },
    };
  });
  const body: SelectionSetNode = { kind: Kind.SELECTION_SET, selections };

  // Only the fragments and variables the query still uses: unused ones would fail validation.
  const usedFragments = new Map<string, FragmentDefinitionNode>();
  const usedVariables = new Set<string>();
  const scan = (node: SelectionSetNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !usedFragments.has(fragment.name.value)) {
          usedFragments.set(fragment.name.value, fragment);
          scan(fragment);
        }
      },
      Variable(variable) {
        usedVariables.add(variable.name.value);
      },
    });
  scan(body);
  const clientDefinitions = (operation.variableDefinitions ?? []).filter((d) =>
    usedVariables.has(d.variable.name.value),
  );
  const idDefinitions: VariableDefinitionNode[] = Object.keys(idVariables).map((name) => ({
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
    type: {
      kind: Kind.NON_NULL_TYPE,
      type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } },
    },
  }));
  const query: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: { kind: Kind.NAME, value: `${operation.name?.value ?? 'Subscription'}Event` },
        variableDefinitions: [...clientDefinitions, ...idDefinitions],
        selectionSet: body,
      },
      ...usedFragments.values(),
    ],
  };
  const clientVariables = Object.fromEntries(
    clientDefinitions.map((d) => [d.variable.name.value, variables[d.variable.name.value]]),
  );
  return { rootKey, parts, text: print(query), variables: clientVariables, idVariables };
}
