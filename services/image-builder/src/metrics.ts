import { Counter, createMetricsRegistry, Gauge, Histogram, type Registry } from '@berth/service-kit';

/** Outcomes a build request can have, as counted in berth_image_builds_total. */
export type CountedOutcome = 'built' | 'unchanged' | 'workspace-gone' | 'refused' | 'superseded' | 'invalid' | 'retry' | 'failed' | 'aborted';

export interface BuilderMetrics {
  registry: Registry;
  builds: Counter<'outcome'>;
  duration: Histogram<'outcome'>;
  running: Gauge;
  collected: Counter;
}

export function createBuilderMetrics(): BuilderMetrics {
  const registry = createMetricsRegistry('image-builder');
  return {
    registry,
    builds: new Counter({ name: 'berth_image_builds_total', help: 'Main-image build requests by outcome', labelNames: ['outcome'], registers: [registry] }),
    duration: new Histogram({
      name: 'berth_image_build_duration_seconds',
      help: 'Time from taking a build request to settling it, by outcome',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    running: new Gauge({ name: 'berth_image_builds_running', help: 'Build requests being worked on or waiting for their repo', registers: [registry] }),
    collected: new Counter({ name: 'berth_image_gc_removed_total', help: 'Superseded main images removed', registers: [registry] }),
  };
}
