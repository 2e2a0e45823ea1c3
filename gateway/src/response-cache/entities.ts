import {
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Every entry also carries this tag, so one invalidation can drop everything (see store.ts). */
export { EVERY_ANSWER as EVERYTHING } from '@stockgraph/contracts';

/** The tag of one entity: `Product:<id>`. */
export const entityTag = (type: string, id: string) => `${type}:${id}`;

/** The tag every answer holding any entity of `type` carries: dropping it drops them all. */
export const anyOf = (type: string) => `${type}:*`;

/**
 * The tag of an entity answered without its id: a change of any entity of the type drops it, since
 * which one it was is not known (invalidation.ts adds it to every change naming an entity).
 */
export const someOf = (type: string) => `${type}:~`;

/**
 * The entities an answer holds, as tags: `Type:id` for each object whose `id` was selected, `Type:~`
 * for an object without it (a change of any entity of that type then drops the entry), and `Type:*` for
 * each type present (a change of that type that names no entity drops it); an entity answered as null
 * gets the bare type, the tag of the type's membership, so its creation drops the answer. Reads the data
 * along the operation's selections with the schema's types, so it needs no __typename in the answer.
 */
export function entityTags(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  data: Record<string, unknown>,
): Set<string> {
  const tags = new Set<string>();
  const root = schema.getRootType(operation.operation);
  if (root) visitObject(root, operation.selectionSet, data, false);
  return tags;

  function visitValue(type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined, value: unknown) {
    if (!selectionSet) return;
    const nullable = getNullableType(type);
    if (value === null || value === undefined) {
      // "No such product" is an answer too: it holds until a product of that type is created.
      if (isObjectType(nullable)) tags.add(nullable.name);
      return;
    }
    if (isListType(nullable)) {
      if (Array.isArray(value)) for (const item of value) visitValue(nullable.ofType, selectionSet, item);
      return;
    }
    // Only object types carry selections in this API (policy.ts refuses abstract types).
    if (isObjectType(nullable) && typeof value === 'object') visitObject(nullable, selectionSet, value, true);
  }

  function visitObject(type: GraphQLObjectType, selectionSet: SelectionSetNode, value: object, tag: boolean) {
    const record = value as Record<string, unknown>;
    const fields = type.getFields();
    let id: unknown;
    for (const { key, name, selectionSet: inner } of fieldsOf(type, selectionSet)) {
      if (name === 'id') id = record[key];
      const field = fields[name];
      if (field && inner) visitValue(field.type, inner, record[key]);
    }
    if (!tag) return;
    tags.add(typeof id === 'string' ? entityTag(type.name, id) : someOf(type.name));
    tags.add(anyOf(type.name));
  }

  /** The fields selected on an object of `type`, through fragments whose condition it meets. */
  function* fieldsOf(
    type: GraphQLObjectType,
    selectionSet: SelectionSetNode,
  ): Generator<{ key: string; name: string; selectionSet?: SelectionSetNode }> {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        yield {
          key: selection.alias?.value ?? selection.name.value,
          name: selection.name.value,
          selectionSet: selection.selectionSet,
        };
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments[selection.name.value];
        const condition = fragment?.typeCondition?.name.value;
        if (fragment && (!condition || condition === type.name)) yield* fieldsOf(type, fragment.selectionSet);
      }
    }
  }
}
