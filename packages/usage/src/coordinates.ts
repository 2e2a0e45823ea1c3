import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getOperationAST,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInputType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/**
 * Schema coordinates in the notation of the GraphQL schema-coordinates RFC, which is what people
 * search for: `Type.field`, `Type.field(argument:)`, `Input.field`, `Enum.VALUE`.
 */
export const fieldCoordinate = (type: string, field: string) => `${type}.${field}`;
export const argumentCoordinate = (type: string, field: string, argument: string) => `${type}.${field}(${argument}:)`;

/** What one operation of a document uses, worked out once per document and schema. */
export interface OperationPlan {
  /** The coordinates the document names itself: fields, arguments, literal input fields and enum values. */
  coordinates: readonly string[];
  /** The same, for membership tests. */
  named: ReadonlySet<string>;
  /** Variables whose values may carry input fields or enum values, read per request. */
  variables: readonly { name: string; type: GraphQLInputType }[];
}

function carriesInput(type: GraphQLNamedType): boolean {
  return isEnumType(type) || isInputObjectType(type);
}

function fragmentsUsedBy(document: DocumentNode, operation: OperationDefinitionNode): FragmentDefinitionNode[] {
  const all = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) all.set(definition.name.value, definition);
  const used = new Map<string, FragmentDefinitionNode>();
  const queue: (OperationDefinitionNode | FragmentDefinitionNode)[] = [operation];
  for (let node = queue.pop(); node; node = queue.pop()) {
    visit(node, {
      FragmentSpread(spread) {
        const fragment = all.get(spread.name.value);
        if (fragment && !used.has(spread.name.value)) {
          used.set(spread.name.value, fragment);
          queue.push(fragment);
        }
      },
    });
  }
  return [...used.values()];
}

/**
 * The coordinates the selected operation of a validated document uses. Only that operation and the
 * fragments it spreads count (a document may hold several operations); a coordinate named twice
 * counts once, so a count is a number of operations. Introspection and `__typename` are left out.
 */
export function planOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationPlan | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const named = new Set<string>();
  const variables: { name: string; type: GraphQLInputType }[] = [];
  const typeInfo = new TypeInfo(schema);
  const visitor = visitWithTypeInfo(typeInfo, {
    VariableDefinition(node) {
      const type = typeFromAST(schema, node.type);
      if (type && isInputType(type) && carriesInput(getNamedType(type)))
        variables.push({ name: node.variable.name.value, type });
    },
    Field() {
      const parent = typeInfo.getParentType();
      const field = typeInfo.getFieldDef();
      if (!parent || !field || field.name.startsWith('__') || parent.name.startsWith('__')) return;
      named.add(fieldCoordinate(parent.name, field.name));
    },
    Argument() {
      // Directive arguments (`@include(if:)`) belong to no field.
      if (typeInfo.getDirective()) return;
      const parent = typeInfo.getParentType();
      const field = typeInfo.getFieldDef();
      const argument = typeInfo.getArgument();
      if (!parent || !field || !argument || parent.name.startsWith('__')) return;
      named.add(argumentCoordinate(parent.name, field.name, argument.name));
    },
    ObjectField(node) {
      const parent = typeInfo.getParentInputType();
      if (parent) named.add(fieldCoordinate(getNamedType(parent).name, node.name.value));
    },
    EnumValue(node) {
      const type = typeInfo.getInputType();
      if (type) named.add(fieldCoordinate(getNamedType(type).name, node.value));
    },
  });
  for (const definition of [operation, ...fragmentsUsedBy(document, operation)]) visit(definition, visitor);
  return { coordinates: [...named], named, variables };
}

/**
 * Nodes of variable values walked per request at most: a list of thousands of input objects names
 * the same few fields over and over, and an operation's cost must not grow with what it sends.
 */
const VARIABLE_NODES_WALKED = 1000;

/** Adds what one value of an input type carries; `budget.left` bounds the nodes walked. */
function walkValue(type: GraphQLInputType, value: unknown, found: Set<string>, budget: { left: number }): void {
  if (value === null || value === undefined || budget.left-- <= 0) return;
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (isListType(nullable)) {
    // A single value where a list is expected is coerced to a list of one.
    if (Array.isArray(value)) for (const element of value) walkValue(nullable.ofType, element, found, budget);
    else walkValue(nullable.ofType, value, found, budget);
  } else if (isEnumType(nullable)) {
    if (typeof value === 'string' && nullable.getValue(value)) found.add(fieldCoordinate(nullable.name, value));
  } else if (isInputObjectType(nullable) && typeof value === 'object' && !Array.isArray(value)) {
    const fields = nullable.getFields();
    for (const key in value) {
      const field = fields[key];
      if (!field) continue;
      found.add(fieldCoordinate(nullable.name, key));
      walkValue(field.type, (value as Record<string, unknown>)[key], found, budget);
    }
  }
}

/**
 * Input fields and enum values a request's variables carry, as sent (names the schema does not know
 * are skipped: the request fails anyway). A field sent as null counts: removing it breaks the client.
 */
export function variableCoordinates(
  plan: OperationPlan,
  values: Readonly<Record<string, unknown>> | undefined,
): Set<string> | undefined {
  if (!values || plan.variables.length === 0) return undefined;
  const found = new Set<string>();
  const budget = { left: VARIABLE_NODES_WALKED };
  for (const { name, type } of plan.variables) walkValue(type, values[name], found, budget);
  return found;
}

/** Every coordinate the schema marks `@deprecated`, with its reason. */
export function deprecatedCoordinates(schema: GraphQLSchema): Map<string, string> {
  const deprecated = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (field.deprecationReason != null)
          deprecated.set(fieldCoordinate(type.name, field.name), field.deprecationReason);
        for (const argument of field.args)
          if (argument.deprecationReason != null)
            deprecated.set(argumentCoordinate(type.name, field.name, argument.name), argument.deprecationReason);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (field.deprecationReason != null)
          deprecated.set(fieldCoordinate(type.name, field.name), field.deprecationReason);
    } else if (isEnumType(type)) {
      for (const value of type.getValues())
        if (value.deprecationReason != null)
          deprecated.set(fieldCoordinate(type.name, value.name), value.deprecationReason);
    }
  }
  return deprecated;
}
