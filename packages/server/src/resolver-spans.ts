import type { GraphQLResolveInfo } from 'graphql';
import type { IMiddlewareFunction, IMiddlewareTypeMap } from 'graphql-middleware';
import { inSpan } from '@stockgraph/telemetry';

/**
 * A span per root field (queries, mutations, `_entities`): the resolvers that do a request's work and
 * whose SQL, policies and outbox writes should sit under them. Nested fields are loader reads,
 * batched, and a span each would cost more than they tell.
 */
const span: IMiddlewareFunction = (resolve, parent, args, context, info: GraphQLResolveInfo) =>
  inSpan(
    `${info.parentType.name}.${info.fieldName}`,
    {
      attributes: {
        'graphql.field.name': info.fieldName,
        'graphql.field.type': String(info.returnType),
        'graphql.operation.type': info.operation.operation,
      },
    },
    async () => (await resolve(parent, args, context, info)) as unknown,
  );

export const resolverSpans: IMiddlewareTypeMap = { Query: span, Mutation: span };
