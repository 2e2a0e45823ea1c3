import { parseEnv, z } from '@stockgraph/config';
import { GATEWAY_DEFAULT_PORT, SUBGRAPHS, urlVariable } from '@stockgraph/registry';

/**
 * Prometheus targets outside Kubernetes, from the registry: one file_sd group per service (gateway and
 * each subgraph) with `job` set to its name, which the alert rules and dashboards rely on, and
 * `system="stockgraph"`, which tells the rules our targets from anything else the Prometheus scrapes.
 * `infra/observability/prometheus.static.yml` reads the file this writes and rereads it when it changes.
 */
const port = z.coerce.number().int().min(1).max(65535);

export const monitoringEnvShape = {
  // The gateway's port; `pnpm start` puts the subgraphs on PORT + their offset.
  PORT: port.default(GATEWAY_DEFAULT_PORT),
  // Where each subgraph runs when it is not on this machine's PORT + offset (the gateway's own variables).
  ...Object.fromEntries(SUBGRAPHS.map((entry) => [urlVariable(entry), z.url().optional()])),
  // Set when every service serves /metrics on its own port (one service per host): scrape that port.
  METRICS_PORT: port.optional(),
};

export interface TargetGroup {
  targets: string[];
  labels: { job: string; system: 'stockgraph' };
}

export function prometheusTargets(source: NodeJS.ProcessEnv = process.env): TargetGroup[] {
  const env = parseEnv('monitoring', monitoringEnvShape, source) as {
    PORT: number;
    METRICS_PORT?: number;
  } & Record<string, string | undefined>;
  const at = (host: string, servicePort: number) => `${host}:${env.METRICS_PORT ?? servicePort}`;
  const group = (job: string, target: string): TargetGroup => ({
    targets: [target],
    labels: { job, system: 'stockgraph' },
  });
  return [
    group('gateway', at('localhost', env.PORT)),
    ...SUBGRAPHS.map((entry) => {
      const url = env[urlVariable(entry)];
      if (!url) return group(entry.name, at('localhost', env.PORT + entry.portOffset));
      const { hostname, port: urlPort, protocol } = new URL(url);
      return group(entry.name, at(hostname, Number(urlPort || (protocol === 'https:' ? 443 : 80))));
    }),
  ];
}
