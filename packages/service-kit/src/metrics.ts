import { Registry, collectDefaultMetrics } from '@prometheus-io/client';

export { Registry, Counter, Gauge, Histogram } from '@prometheus-io/client';

/**
 * A registry per service, with Node's default metrics under their standard names
 * (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, ...) so stock Node.js dashboards
 * work; every series carries a `service` label.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event-loop utilisation summary samples every 100 ms by default: once a second costs an
  // idle service a tenth of the wake-ups and still feeds a 60 s window.
  collectDefaultMetrics({ register: registry, eventLoopUtilizationTimeout: 1_000 });
  return registry;
}
