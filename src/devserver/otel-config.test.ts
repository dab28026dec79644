import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { traceExportConfig } from './otel-config.js';

describe('when wf dev / wf serve export traces', () => {
  it('stays off without --otel or an OTEL_* variable that asks for traces', () => {
    expect(traceExportConfig(false, {})).toBeUndefined();
    expect(traceExportConfig(false, { OTEL_SERVICE_NAME: 'orders' })).toBeUndefined();
  });

  it('turns on with --otel, to the default collector, as service "wf"', () => {
    expect(traceExportConfig(true, {})).toEqual({
      url: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'wf',
    });
  });

  it('turns on with an endpoint or OTEL_TRACES_EXPORTER=otlp, and reads the protocol and service name', () => {
    expect(
      traceExportConfig(false, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318/',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'orders',
      }),
    ).toEqual({ url: 'http://tempo:4318/v1/traces', protocol: 'http/json', serviceName: 'orders' });
    expect(
      traceExportConfig(false, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/otlp/traces',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
    ).toMatchObject({ url: 'https://collector.example/otlp/traces', protocol: 'http/protobuf' });
    expect(traceExportConfig(false, { OTEL_TRACES_EXPORTER: 'otlp' })?.url).toBe(
      'http://localhost:4318/v1/traces',
    );
  });

  it('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none win over --otel and an endpoint', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' };
    expect(traceExportConfig(true, { ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(traceExportConfig(true, { ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(traceExportConfig(false, { ...endpoint, OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('refuses what it cannot do, saying what to set instead', () => {
    expect(() => traceExportConfig(true, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /not supported: wf sends OTLP over HTTP/,
    );
    expect(() => traceExportConfig(false, { OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(InvalidArgumentError);
    expect(() => traceExportConfig(false, { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(
      /is not a URL/,
    );
  });
});
