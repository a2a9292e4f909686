import { Counter, Gauge, type Registry } from '@berth/service-kit';

/** log-streamer's metrics: line pieces shipped, and containers followed (read at scrape time). */
export function registerLogMetrics(registry: Registry, following: () => number): { lines: Counter } {
  new Gauge({
    name: 'berth_log_followed_containers',
    help: 'Containers whose output is being followed',
    registers: [registry],
    collect() {
      this.set(following());
    },
  });
  return { lines: new Counter({ name: 'berth_log_lines_total', help: 'Log line pieces sent to LOGS', registers: [registry] }) };
}
