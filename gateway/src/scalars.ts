import type { ApolloGateway } from '@apollo/gateway';
import { DateTimeScalar, DecimalScalar } from '@stockgraph/graphql-kit';
import { GraphQLScalarType, valueFromASTUntyped, type GraphQLSchema } from 'graphql';

/**
 * The supergraph declares Decimal and DateTime without their rules, so the gateway would pass "NaN"
 * or "9999-99-99" on to a subgraph and turn its refusal into an internal error. The gateway's API
 * schema gets the subgraphs' own checks instead: a bad value is BAD_USER_INPUT (HTTP 400) before
 * anything is planned. The value sent on stays what the client wrote; the subgraph parses it itself.
 */
const CHECKS = [DecimalScalar, DateTimeScalar];

function checkScalars(schema: GraphQLSchema): void {
  for (const check of CHECKS) {
    const type = schema.getType(check.name);
    if (!(type instanceof GraphQLScalarType)) continue;
    type.parseValue = (value) => {
      check.parseValue(value);
      return value;
    };
    type.parseLiteral = (ast, variables) => {
      check.parseLiteral(ast, variables);
      return valueFromASTUntyped(ast, variables);
    };
  }
}

/** Applies the checks to every API schema the gateway loads (at start and on each supergraph reload). */
export function checkScalarsOf(gateway: ApolloGateway): void {
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => checkScalars(apiSchema));
}
