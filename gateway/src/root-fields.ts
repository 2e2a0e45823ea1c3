import { type DocumentNode, type FieldNode, type FragmentDefinitionNode, Kind, type SelectionSetNode } from 'graphql';

/**
 * The root fields an operation's selection runs, in document order: through inline fragments and named
 * fragment spreads, each alias on its own (directives are not evaluated). What the rate limits count
 * and what the subscription engine serves; counting only top-level selections let
 * `... on Mutation { login }` through unmetered.
 */
export function rootFields(selectionSet: SelectionSetNode, document: DocumentNode): FieldNode[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const fields: FieldNode[] = [];
  const walk = (set: SelectionSetNode, entered: ReadonlySet<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet, entered);
      else {
        const fragment = fragments.get(selection.name.value);
        // A cycle is refused by validation before this runs; the guard keeps the walk finite anyway.
        if (fragment && !entered.has(fragment.name.value))
          walk(fragment.selectionSet, new Set([...entered, fragment.name.value]));
      }
    }
  };
  walk(selectionSet, new Set());
  return fields;
}
