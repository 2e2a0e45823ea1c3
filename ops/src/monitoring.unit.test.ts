import { ConfigError } from '@stockgraph/config';
import { SUBGRAPHS } from '@stockgraph/registry';
import { describe, expect, it } from 'vitest';
import { prometheusTargets } from './monitoring.js';

describe('prometheusTargets', () => {
  it('lists the gateway and every subgraph of the registry, as `pnpm start` places them, by name', () => {
    const groups = prometheusTargets({ PORT: '5000' });
    expect(groups.map((g) => g.labels.job)).toEqual(['gateway', ...SUBGRAPHS.map((s) => s.name)]);
    expect(groups[0]).toEqual({ targets: ['localhost:5000'], labels: { job: 'gateway', system: 'stockgraph' } });
    for (const [i, entry] of SUBGRAPHS.entries())
      expect(groups[i + 1]!.targets).toEqual([`localhost:${5000 + entry.portOffset}`]);
  });

  it("follows a subgraph's URL variable, and METRICS_PORT when metrics are served apart", () => {
    const groups = prometheusTargets({
      INVENTORY_URL: 'https://inventory.internal/graphql',
      ORDERS_URL: 'http://10.0.0.7:8080/graphql',
    });
    const at = (job: string) => groups.find((g) => g.labels.job === job)!.targets;
    expect(at('gateway')).toEqual(['localhost:4000']);
    expect(at('inventory')).toEqual(['inventory.internal:443']);
    expect(at('orders')).toEqual(['10.0.0.7:8080']);
    const apart = prometheusTargets({ ORDERS_URL: 'http://10.0.0.7:8080/graphql', METRICS_PORT: '9464' });
    expect(apart.find((g) => g.labels.job === 'orders')!.targets).toEqual(['10.0.0.7:9464']);
  });

  it('refuses a URL or port that is not one, naming the variable', () => {
    expect(() => prometheusTargets({ ORDERS_URL: 'orders' })).toThrow(ConfigError);
    expect(() => prometheusTargets({ PORT: '99999' })).toThrow(/PORT/);
  });
});
