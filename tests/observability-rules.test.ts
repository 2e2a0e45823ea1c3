import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SUBGRAPH_NAMES } from '@stockgraph/registry';
import { eventually } from '@stockgraph/testkit/saga';
import {
  allExpressions,
  alertRules,
  asPromQL,
  dashboards,
  OBSERVABILITY,
  RULE_FILES,
  rules,
} from './observability-support.js';

/**
 * The alert rules, scrape configuration and dashboards of infra/observability, checked with Debian's
 * promtool (the prometheus package): rules valid and unit-tested, every dashboard query valid PromQL.
 * That every metric they name is exported is checked against running services in observability-metrics.test.ts.
 */
const scratch = mkdtempSync(join(tmpdir(), 'promtool-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: OBSERVABILITY, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    for (const file of RULE_FILES) expect(promtool('check', 'rules', file)).toMatch(/SUCCESS/);
  });

  it('pass their unit tests (promtool test rules), the burn-rate alerts included', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
    expect(promtool('test', 'rules', 'slo.test.yml')).toMatch(/SUCCESS/);
    expect(promtool('test', 'rules', 'backups.test.yml')).toMatch(/SUCCESS/);
  });

  it('record both service levels as SLIs over the workbook windows, and alert on both burn-rate pairs', () => {
    const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
    for (const sli of [
      'gateway_availability_errors',
      'gateway_latency_slow',
      'subgraph_availability_errors',
      'subgraph_latency_slow',
    ])
      for (const window of ['5m', '30m', '1h', '6h', '30d'])
        expect(recorded, `${sli} ${window}`).toContain(`stockgraph:${sli}:ratio_rate${window}`);
    const burn = alertRules().filter((r) => r.alert.endsWith('BudgetBurn'));
    expect(burn).toHaveLength(4);
    for (const rule of burn) {
      expect(rule.expr, rule.alert).toMatch(/ratio_rate1h > 14\.4 \*[\s\S]*ratio_rate5m > 14\.4 \*/);
      expect(rule.expr, rule.alert).toMatch(/ratio_rate6h > 6 \*[\s\S]*ratio_rate30m > 6 \*/);
    }
  });

  it("cover what the issue asks for, each with a summary, a description and a runbook in the operators' docs", () => {
    const rules = alertRules();
    // The runbooks are the alert subsections of docs/operators/operate.md; anchors as GitHub makes them.
    const anchorsOf = (file: string) =>
      new Set(
        [
          ...readFileSync(file, 'utf8')
            .toLowerCase()
            .matchAll(/^#+ (.+)$/gm),
        ].map((m) =>
          m[1]!
            .trim()
            .replaceAll(/[^a-z0-9 -]/g, '')
            .replaceAll(' ', '-'),
        ),
      );
    for (const rule of rules) {
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const runbook = rule.annotations?.runbook_url ?? '';
      expect(runbook, rule.alert).toMatch(/^docs\/operators\/operate\.md#/);
      const [file, anchor] = runbook.split('#') as [string, string];
      expect(anchorsOf(file), `${rule.alert}: ${file} has no heading for #${anchor}`).toContain(anchor);
      expect(['page', 'warning']).toContain(rule.labels?.severity);
    }
    // Error rate, p99 latency, subgraph down, outbox lag, stuck PENDING orders, DEFAULT partitions, pool.
    const reads = (metric: string) => rules.some((r) => r.expr.includes(metric));
    for (const metric of [
      'stockgraph_graphql_errors_total',
      'stockgraph_graphql_request_duration_seconds_bucket',
      'stockgraph_subgraph_breaker_state',
      'up{',
      'stockgraph_outbox_oldest_age_seconds',
      'stockgraph_orders_pending_oldest_age_seconds',
      'stockgraph_default_partition_rows',
      'stockgraph_db_pool_in_flight',
      'kube_cronjob_status_last_successful_time',
    ])
      expect(reads(metric), metric).toBe(true);
  });
});

describe('scrape configuration', () => {
  const SERVICES = ['gateway', ...SUBGRAPH_NAMES];

  it('the static variant scrapes every service of the registry, by name, in a running Prometheus', async () => {
    // What an operator does: write the targets from the registry, then start Prometheus on the config.
    const config = mkdtempSync(join(tmpdir(), 'prometheus-'));
    cpSync(OBSERVABILITY, config, { recursive: true, filter: (from) => !from.includes('targets') });
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/prometheus-targets.ts', join(config, 'targets/stockgraph.json')],
      {
        env: { ...process.env, PORT: '14000', ORDERS_URL: 'http://orders.internal:8443/graphql' },
        stdio: 'pipe',
      },
    );
    expect(promtool('check', 'config', join(config, 'prometheus.static.yml'))).toMatch(/SUCCESS/);
    const port = await freePort();
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(config, 'prometheus.static.yml')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.tsdb.path=${join(config, 'data')}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      type Target = { labels: Record<string, string> };
      const active = await eventually(
        async () => {
          const answer = await fetch(`http://127.0.0.1:${port}/api/v1/targets`).catch(() => null);
          if (!answer?.ok) return null;
          const targets = ((await answer.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
          return targets.length === SERVICES.length ? targets : null;
        },
        30_000,
        'Prometheus has discovered every target',
      );
      const byJob = Object.fromEntries(active.map((t) => [t.labels.job, t.labels]));
      expect(Object.keys(byJob).sort()).toEqual([...SERVICES].sort());
      for (const target of active) expect(target.labels.system).toBe('stockgraph');
      expect(byJob.gateway!.instance).toBe('localhost:14000');
      expect(byJob.users!.instance).toBe('localhost:14001');
      expect(byJob.orders!.instance).toBe('orders.internal:8443');
    } finally {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('the Kubernetes variant keeps the services on the port their manifests serve /metrics on', () => {
    // Debian's promtool is built without Kubernetes discovery, so this file's shape is checked here.
    const config = parse(readFileSync(join(OBSERVABILITY, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        relabel_configs: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
      }[];
    };
    expect(config.rule_files).toEqual(RULE_FILES);
    const relabel = config.scrape_configs[0]!.relabel_configs;
    expect(relabel[0]).toMatchObject({
      source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_part_of'],
      action: 'keep',
      regex: 'stockgraph',
    });
    expect(relabel.some((r) => r.target_label === 'job')).toBe(true);
    expect(relabel.some((r) => r.target_label === 'system')).toBe(true);
    for (const service of SERVICES) {
      const configmap = readFileSync(`infra/k8s/base/${service}/configmap.yaml`, 'utf8');
      expect(configmap, service).toMatch(/METRICS_PORT: "9464"/);
      const deployment = readFileSync(`infra/k8s/base/${service}/deployment.yaml`, 'utf8');
      expect(deployment, service).toMatch(/- name: metrics\s+containerPort: 9464/);
      expect(deployment, service).toMatch(/app\.kubernetes\.io\/part-of: stockgraph/);
    }
  });
});

describe('dashboards', () => {
  it('are Grafana dashboards: uid, title, a datasource variable, panels with placed targets', () => {
    const found = dashboards();
    expect(found.map((d) => d.file).sort()).toEqual(['saga.json', 'subgraph.json', 'supergraph.json']);
    const uids = new Set<string>();
    for (const { file, dashboard } of found) {
      expect(dashboard.uid, file).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(uids.has(dashboard.uid!), `${file}: duplicate uid`).toBe(false);
      uids.add(dashboard.uid!);
      expect(dashboard.title, file).toBeTruthy();
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(30);
      expect(
        dashboard.templating?.list?.map((v) => v.name),
        file,
      ).toContain('datasource');
      expect(dashboard.panels?.length, file).toBeGreaterThan(0);
      const ids = new Set<number>();
      for (const panel of dashboard.panels!) {
        expect(panel.type, `${file}: ${panel.title}`).toBeTruthy();
        expect(panel.title, file).toBeTruthy();
        expect(ids.has(panel.id!), `${file}: duplicate panel id ${panel.id}`).toBe(false);
        ids.add(panel.id!);
        expect(panel.gridPos, `${file}: ${panel.title}`).toMatchObject({
          x: expect.any(Number),
          y: expect.any(Number),
          w: expect.any(Number),
          h: expect.any(Number),
        });
        expect(panel.targets?.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets!) {
          expect(target.refId, `${file}: ${panel.title}`).toMatch(/^[A-Z]$/);
          expect(target.expr?.trim(), `${file}: ${panel.title}`).toBeTruthy();
        }
      }
    }
  });

  it('query only valid PromQL (each expression checked by promtool as a recording rule)', () => {
    const expressions = allExpressions();
    const rules = expressions.map((e, i) => ({ record: `check:expr_${i}`, expr: asPromQL(e.expr) }));
    const file = join(scratch, 'expressions.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard-expressions', rules }] }));
    try {
      execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      // Name the panel behind each failing expression.
      const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      const failing = [...output.matchAll(/expr_(\d+)/g)].map((m) => expressions[Number(m[1])]!.where);
      throw new Error(`invalid PromQL in ${failing.join(', ') || 'a dashboard'}:\n${output}`, { cause: error });
    }
  });
});

describe('alert routing (Alertmanager)', () => {
  const amtool = (...args: string[]) =>
    execFileSync('amtool', args, { cwd: OBSERVABILITY, encoding: 'utf8', stdio: 'pipe' }).trim();

  it('passes amtool check-config and sends pages to the pager, warnings to tickets', () => {
    expect(amtool('check-config', 'alertmanager.yml')).toMatch(/SUCCESS/);
    const receiver = (...labels: string[]) =>
      amtool('config', 'routes', 'test', '--config.file=alertmanager.yml', ...labels);
    expect(receiver('severity=page', 'alertname=StockgraphAvailabilityBudgetBurn')).toBe('pager');
    expect(receiver('severity=warning', 'alertname=StockgraphConsumerBacklog')).toBe('ticket');
    // Every alert's severity has a route that names it: none falls through to the default by accident.
    for (const rule of alertRules())
      expect(receiver(`severity=${rule.labels!.severity}`), rule.alert).toBe(
        rule.labels!.severity === 'page' ? 'pager' : 'ticket',
      );
  });

  it('lets a cause inhibit its symptoms, in a running Alertmanager', async () => {
    const port = await freePort();
    const storage = mkdtempSync(join(tmpdir(), 'alertmanager-'));
    const alertmanager = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(OBSERVABILITY, 'alertmanager.yml')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.path=${storage}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    const api = `http://127.0.0.1:${port}/api/v2`;
    try {
      await eventually(async () => (await fetch(`${api}/status`).catch(() => null))?.ok, 20_000, 'Alertmanager up');
      const alert = (labels: Record<string, string>) => ({ labels, startsAt: new Date().toISOString() });
      const posted = await fetch(`${api}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert({ alertname: 'StockgraphServiceDown', service: 'orders', job: 'orders', severity: 'page' }),
          alert({ alertname: 'StockgraphHighErrorRate', service: 'orders', severity: 'page' }),
          alert({ alertname: 'StockgraphHighErrorRate', service: 'customers', severity: 'page' }),
          alert({ alertname: 'StockgraphSubgraphUnavailable', subgraph: 'inventory', severity: 'page' }),
          alert({ alertname: 'StockgraphAvailabilityBudgetBurn', service: 'gateway', type: 'query', severity: 'page' }),
          alert({ alertname: 'StockgraphSubgraphLatencyBudgetBurn', subgraph: 'inventory', severity: 'page' }),
          alert({ alertname: 'StockgraphSubgraphLatencyBudgetBurn', subgraph: 'orders', severity: 'page' }),
        ]),
      });
      expect(posted.status).toBe(200);
      type Listed = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
      const states = await eventually(
        async () => {
          const listed = (await (await fetch(`${api}/alerts`)).json()) as Listed[];
          // Inhibition is worked out as alerts arrive; wait until every one has a verdict.
          return listed.length === 7 && listed.every((a) => a.status.state !== 'unprocessed') ? listed : null;
        },
        20_000,
        'a verdict on every alert',
      );
      const state = (alertname: string, key: string, value: string) =>
        states.find((a) => a.labels.alertname === alertname && a.labels[key] === value)!.status.state;
      // The causes page; what they explain is suppressed; the same symptom elsewhere still pages.
      expect(state('StockgraphServiceDown', 'service', 'orders')).toBe('active');
      expect(state('StockgraphHighErrorRate', 'service', 'orders')).toBe('suppressed');
      expect(state('StockgraphHighErrorRate', 'service', 'customers')).toBe('active');
      expect(state('StockgraphAvailabilityBudgetBurn', 'service', 'gateway')).toBe('suppressed');
      expect(state('StockgraphSubgraphLatencyBudgetBurn', 'subgraph', 'inventory')).toBe('suppressed');
      expect(state('StockgraphSubgraphLatencyBudgetBurn', 'subgraph', 'orders')).toBe('active');
    } finally {
      alertmanager.kill('SIGTERM');
      await once(alertmanager, 'exit');
      rmSync(storage, { recursive: true, force: true });
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
