import { describe, expect, it } from 'vitest';
import { tracesUrl, type TelemetryEnv } from './start.js';

const env = (extra: Partial<TelemetryEnv>): TelemetryEnv => ({
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  ...extra,
});

describe('where traces go', () => {
  it('is nowhere without an endpoint, or with the SDK disabled', () => {
    expect(tracesUrl(env({}))).toBeNull();
    expect(tracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: true }))).toBeNull();
  });

  it('is /v1/traces under the endpoint, or the traces endpoint as given', () => {
    expect(tracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }))).toBe('http://c:4318/v1/traces');
    expect(
      tracesUrl(
        env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }),
      ),
    ).toBe('http://t/x');
  });
});
