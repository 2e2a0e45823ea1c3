import { Gauge, type Registry } from 'prom-client';

/** Live subscriptions and WebSocket connections of this process, read when /metrics is scraped. */
export function registerSubscriptionMetrics(registry: Registry, active: () => number, sockets: () => number): void {
  new Gauge({
    name: 'stockgraph_subscriptions_active',
    help: 'Live subscriptions this gateway process serves (SSE and WebSocket)',
    registers: [registry],
    collect() {
      this.set(active());
    },
  });
  new Gauge({
    name: 'stockgraph_subscription_websockets_open',
    help: 'Open WebSocket connections of this gateway process',
    registers: [registry],
    collect() {
      this.set(sockets());
    },
  });
}
