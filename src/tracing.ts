/**
 * Traces through `bullmq-otel` when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (config.otlpEndpoint):
 * an OpenTelemetry tracer provider exporting OTLP/HTTP (JSON) to `<endpoint>/v1/traces`, and the
 * BullMQ `telemetry` object every Queue, FlowProducer and Worker of the coordinator gets. The goal
 * span wraps the writing of the flow and every job carries its context (see tracing-goal-flow.ts),
 * so a task's `process` span has the goal span as its parent.
 *
 * Without an endpoint nothing here loads a single OpenTelemetry module: the SDK is required
 * lazily, only by `startTracing`. One provider per process (the OpenTelemetry API is global):
 * every caller shares it and the last `shutdown()` flushes and unregisters it.
 */
import type { Telemetry } from 'bullmq';
import { InputError } from './errors';

export interface TracingOptions {
  /** The collector's base URL, as in `OTEL_EXPORTER_OTLP_ENDPOINT`; spans go to `/v1/traces`. */
  endpoint: string;
  /** `service.name` of the spans. @defaultValue 'agentq' */
  serviceName?: string;
}

export interface Tracing {
  /** The BullMQ telemetry to give Queue, FlowProducer and Worker (`telemetry` option). */
  readonly telemetry: Telemetry;
  /** Exports what has been recorded so far. */
  flush(): Promise<void>;
  /** Releases this handle; the last one flushes, stops the provider and unregisters it. */
  shutdown(): Promise<void>;
}

interface SharedProvider {
  endpoint: string;
  users: number;
  telemetry: Telemetry;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

let shared: SharedProvider | null = null;

/**
 * How long one export, and the final flush at shutdown, may take. A collector that is down must
 * not hold a stopping `serve` or `worker` (the exporter's own default is 10 s, with retries).
 */
const EXPORT_TIMEOUT_MS = 2000;
const SHUTDOWN_TIMEOUT_MS = 3000;

/** Resolves after `ms` without keeping the process alive. */
function grace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `<endpoint>/v1/traces`, the path the OTLP/HTTP spec appends to the base endpoint. */
export function tracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InputError(`'${endpoint}' is not a URL`, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`'${endpoint}' must be http(s)://…`, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  }
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
function createProvider(options: TracingOptions): SharedProvider {
  const url = tracesUrl(options.endpoint);
  const { NodeTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BullMQOtel } = require('bullmq-otel') as typeof import('bullmq-otel');
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'agentq' }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS }), {
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
  });
  // Registers the provider, the AsyncLocalStorage context manager and the W3C propagator that
  // bullmq-otel's context manager uses to carry a span's context inside a job's options.
  provider.register();
  return {
    endpoint: options.endpoint,
    users: 0,
    telemetry: new BullMQOtel({ tracerName: 'agentq' }),
    flush: () => provider.forceFlush(),
    stop: async () => {
      // Spans a dead collector cannot take are dropped rather than waited for.
      await Promise.race([provider.shutdown().catch(() => undefined), grace(SHUTDOWN_TIMEOUT_MS)]);
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}

/** Starts (or joins) this process's tracer provider. */
export function startTracing(options: TracingOptions): Tracing {
  if (shared && shared.endpoint !== options.endpoint) {
    throw new InputError(
      `tracing already exports to ${shared.endpoint} in this process`,
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  }
  const provider = (shared ??= createProvider(options));
  provider.users += 1;
  let released = false;
  return {
    telemetry: provider.telemetry,
    flush: () => provider.flush(),
    async shutdown() {
      if (released) return;
      released = true;
      provider.users -= 1;
      if (provider.users > 0) return;
      if (shared === provider) shared = null;
      await provider.stop();
    },
  };
}

/** Tracing when the configuration names an OTLP endpoint; null (nothing loaded) otherwise. */
export function tracingFromConfig(
  config: { otlpEndpoint: string | null },
  serviceName?: string,
): Tracing | null {
  if (!config.otlpEndpoint) return null;
  return startTracing({
    endpoint: config.otlpEndpoint,
    ...(serviceName ? { serviceName } : {}),
  });
}

/** Exports the spans this process recorded so far; nothing to do when tracing is off. */
export async function flushTracing(): Promise<void> {
  await shared?.flush();
}
