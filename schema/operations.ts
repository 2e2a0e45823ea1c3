import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  Source,
  TypeInfo,
  typeFromAST,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/** One operation a client ships, with the fragments it spreads, as it is sent to the gateway. */
export interface ClientOperation {
  name: string;
  /** Relative to the repository root. */
  file: string;
  document: DocumentNode;
}

export interface OperationProblem {
  message: string;
  /** `file:line:column`, when the problem has a place. */
  location?: string;
}

export interface LoadedOperations {
  operations: ClientOperation[];
  /** Files that do not parse, anonymous operations, duplicate names: the collection itself is broken. */
  problems: (OperationProblem & { file: string })[];
}

function graphqlFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .flatMap((e) =>
      e.isDirectory() ? graphqlFiles(join(dir, e.name)) : e.name.endsWith('.graphql') ? [join(dir, e.name)] : [],
    )
    .sort();
}

function locate(error: GraphQLError): string | undefined {
  const node = error.nodes?.[0];
  const at = error.locations?.[0];
  const file = node?.loc?.source.name ?? error.source?.name;
  return at && file ? `${file}:${at.line}:${at.column}` : undefined;
}

function spreads(node: OperationDefinitionNode | FragmentDefinitionNode): string[] {
  const names: string[] = [];
  visit(node, { FragmentSpread: (spread) => void names.push(spread.name.value) });
  return names;
}

/**
 * Reads every `.graphql` file under `dir`: each named operation becomes a document of its own with the
 * fragments it uses (from any file), the way codegen writes it into the persisted-operation manifest.
 */
export function loadOperations(root: string, dir: string): LoadedOperations {
  const problems: LoadedOperations['problems'] = [];
  const operations: { node: OperationDefinitionNode; file: string }[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const path of graphqlFiles(join(root, dir))) {
    const file = relative(root, path);
    let document: DocumentNode;
    try {
      document = parse(new Source(readFileSync(path, 'utf8'), file));
    } catch (error) {
      problems.push({ file, message: (error as GraphQLError).message, location: locate(error as GraphQLError) });
      continue;
    }
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(definition.name.value))
          problems.push({
            file,
            message: `Fragment "${definition.name.value}" is defined twice; fragment names are global`,
          });
        fragments.set(definition.name.value, definition);
      } else if (definition.kind === Kind.OPERATION_DEFINITION) {
        if (!definition.name)
          problems.push({
            file,
            message: 'Anonymous operation: shipped operations need a name (it is their identity in logs and metrics)',
          });
        else operations.push({ node: definition, file });
      } else {
        problems.push({ file, message: `Only operations and fragments belong in ${dir}, found ${definition.kind}` });
      }
    }
  }
  const seen = new Map<string, string>();
  for (const { node, file } of operations) {
    const name = node.name!.value;
    if (seen.has(name))
      problems.push({
        file,
        message: `Operation "${name}" is also defined in ${seen.get(name)}; names must be unique`,
      });
    seen.set(name, file);
  }
  const withFragments = (node: OperationDefinitionNode): DocumentNode => {
    const used = new Map<string, FragmentDefinitionNode>();
    const queue = spreads(node);
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const fragment = fragments.get(name);
      if (!fragment || used.has(name)) continue;
      used.set(name, fragment);
      queue.push(...spreads(fragment));
    }
    return { kind: Kind.DOCUMENT, definitions: [node, ...used.values()] };
  };
  return {
    operations: operations.map(({ node, file }) => ({ name: node.name!.value, file, document: withFragments(node) })),
    problems,
  };
}

export function validateOperation(schema: GraphQLSchema, operation: ClientOperation): OperationProblem[] {
  return validate(schema, operation.document).map((error) => ({ message: error.message, location: locate(error) }));
}

/** Every input field and enum value a variable of this type could carry at run time. */
function inputCoordinates(type: GraphQLNamedType, into: Set<string>): void {
  if (into.has(type.name)) return;
  into.add(type.name);
  if (isEnumType(type)) for (const value of type.getValues()) into.add(`${type.name}.${value.name}`);
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      into.add(`${type.name}.${field.name}`);
      inputCoordinates(getNamedType(field.type), into);
    }
  }
}

/**
 * The schema coordinates an operation depends on, in inspector's path notation: `Type`,
 * `Type.field`, `Type.field.argument`, `Input.field`, `Enum.VALUE`. Variables count as using every
 * field and value of their input types, since a client may send any of them. Coordinates the schema
 * does not know are skipped, so collecting against the old and the new schema and merging covers
 * what was removed and what was added.
 */
export function operationUsage(schema: GraphQLSchema, operation: ClientOperation): Set<string> {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  for (const definition of operation.document.definitions) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        VariableDefinition(node) {
          const type = typeFromAST(schema, node.type);
          if (type) inputCoordinates(getNamedType(type), used);
        },
        Field() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (!parent || !field || field.name.startsWith('__')) return;
          used.add(parent.name);
          used.add(`${parent.name}.${field.name}`);
          used.add(getNamedType(field.type).name);
        },
        Argument() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          const argument = typeInfo.getArgument();
          if (!parent || !field || !argument) return;
          used.add(`${parent.name}.${field.name}.${argument.name}`);
          used.add(getNamedType(argument.type).name);
        },
        ObjectField(node) {
          const parent = typeInfo.getParentInputType();
          if (parent) used.add(`${getNamedType(parent).name}.${node.name.value}`);
        },
        EnumValue(node) {
          const type = typeInfo.getInputType();
          if (type) used.add(`${getNamedType(type).name}.${node.value}`);
        },
      }),
    );
  }
  return used;
}

/**
 * Changes that add a requirement (a new required argument or input field, or one that became
 * non-null) break every operation that uses the parent, including those that never mention the member.
 */
function addsRequirement(change: { type: string; meta?: Record<string, unknown> }): boolean {
  if (change.type === 'FIELD_ARGUMENT_ADDED' || change.type === 'INPUT_FIELD_ADDED') return true;
  const newType = change.meta?.newArgumentType ?? change.meta?.newInputFieldType;
  return (
    (change.type === 'FIELD_ARGUMENT_TYPE_CHANGED' || change.type === 'INPUT_FIELD_TYPE_CHANGED') &&
    String(newType).endsWith('!')
  );
}

/** Whether an operation with this usage may stop working because of the change. */
export function affects(
  usage: Set<string>,
  change: { type: string; path?: string; meta?: Record<string, unknown> },
): boolean {
  // A directive usage (`Product.id.@requiresScopes`) concerns the member it is applied to.
  const path = change.path?.replace(/\.?@.*$/, '');
  if (!path) return false;
  if (usage.has(path)) return true;
  const parent = path.slice(0, Math.max(0, path.lastIndexOf('.')));
  return parent !== '' && usage.has(parent) && addsRequirement(change);
}
