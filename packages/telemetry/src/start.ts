import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { traceRedisCalls } from './redis-spans.js';

/** The OTEL_* variables as packages/config validated them (telemetryEnvShape). */
export interface TelemetryEnv {
  OTEL_SDK_DISABLED?: boolean;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' | 'http/json';
  OTEL_TRACES_SAMPLER:
    | 'always_on'
    | 'always_off'
    | 'traceidratio'
    | 'parentbased_always_on'
    | 'parentbased_always_off'
    | 'parentbased_traceidratio';
  OTEL_TRACES_SAMPLER_ARG?: number;
  OTEL_SERVICE_NAME?: string;
}

export interface Telemetry {
  /** False when no endpoint is set or the SDK is disabled: every span is then the API's no-op. */
  enabled: boolean;
  /** Exports what is still buffered; call on shutdown, after the server stopped. */
  shutdown(): Promise<void>;
}

/** Where spans go, or null when tracing is off. */
export function tracesUrl(env: TelemetryEnv): string | null {
  if (env.OTEL_SDK_DISABLED) return null;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Registers the process's tracer provider, W3C propagator and AsyncLocalStorage context manager. Off
 * (no endpoint) nothing is loaded or registered: @opentelemetry/api's no-op tracer answers every span
 * request, and the SQL and event wrappers check `isTracing()` before doing any work.
 */
export async function startTelemetry(env: TelemetryEnv, defaultServiceName: string): Promise<Telemetry> {
  const url = tracesUrl(env);
  if (!url) return { enabled: false, shutdown: async () => {} };
  // Loaded only when used: the SDK and its exporters cost start time and memory a process without
  // a collector should not pay.
  const [{ NodeTracerProvider }, base, { resourceFromAttributes }, exporterModule] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    env.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const ratio = env.OTEL_TRACES_SAMPLER_ARG ?? 1;
  const samplers: Record<TelemetryEnv['OTEL_TRACES_SAMPLER'], () => Sampler> = {
    always_on: () => new base.AlwaysOnSampler(),
    always_off: () => new base.AlwaysOffSampler(),
    traceidratio: () => new base.TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: () => new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(ratio) }),
  };
  const exporter = new exporterModule.OTLPTraceExporter({ url });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? defaultServiceName,
      'service.namespace': 'stockgraph',
    }),
    sampler: samplers[env.OTEL_TRACES_SAMPLER](),
    spanProcessors: [new base.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  traceRedisCalls();
  tracing = true;
  return {
    enabled: true,
    shutdown: async () => {
      await provider.shutdown().catch(() => {});
    },
  };
}

let tracing = false;

/** True once a tracer provider is registered in this process; wrappers skip all work otherwise. */
export function isTracing(): boolean {
  return tracing;
}
