import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@stockgraph/logger';
import type { Registry } from 'prom-client';

/**
 * /metrics on a port of its own (METRICS_PORT), so the scrape path can be opened to Prometheus alone
 * while the service port stays closed to everyone but the gateway.
 */
export async function startMetricsServer(registry: Registry, host: string, port: number, logger: Logger) {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  const metricsUrl = `http://${host}:${(server.address() as AddressInfo).port}/metrics`;
  logger.info({ metricsUrl }, 'metrics served on their own port');
  return { url: metricsUrl, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
