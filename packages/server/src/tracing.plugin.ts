import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { recordFailure, tracer } from '@stockgraph/telemetry';

/** A step of the pipeline as a child span of the request's server span, ended by Apollo's end hook. */
function step(name: string): (error?: unknown) => Promise<void> {
  const span = tracer.startSpan(name);
  return async (error?: unknown) => {
    if (error) recordFailure(span, error);
    span.end();
  };
}

/**
 * GraphQL on the request's HTTP server span (OpenTelemetry's GraphQL conventions: operation name and
 * type, the document only as its operation name, since literals in it may be personal), parse and
 * validate as child spans, and every error the response carries recorded on the span with its code.
 */
export function tracingPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const span: Span | undefined = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      return {
        async parsingDidStart() {
          return step('graphql.parse');
        },
        async validationDidStart() {
          const end = step('graphql.validate');
          return (errors) => end(errors?.[0]);
        },
        async didResolveOperation({ operation, operationName }) {
          if (operation) span.setAttribute('graphql.operation.type', operation.operation);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
        async willSendResponse({ errors }) {
          if (!errors?.length) return;
          for (const error of errors) {
            span.addEvent('exception', {
              'exception.type': String(error.extensions?.code ?? 'GraphQLError'),
              'exception.message': error.message,
              'graphql.error.path': error.path?.join('.'),
            });
          }
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: [...new Set(errors.map((e) => String(e.extensions?.code ?? 'ERROR')))].join(','),
          });
        },
      };
    },
  };
}
