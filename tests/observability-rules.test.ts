import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { allExpressions, alertRules, asPromQL, dashboards, OBSERVABILITY } from './observability-support.js';

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
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS/);
  });

  it('pass their unit tests (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });

  it('cover what the issue asks for, each with a summary, a description and a runbook in the README', () => {
    const rules = alertRules();
    const readme = readFileSync('README.md', 'utf8').toLowerCase();
    const anchors = new Set(
      [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
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
      expect(runbook, rule.alert).toMatch(/^README\.md#/);
      expect(anchors, `${rule.alert}: README has no heading for ${runbook}`).toContain(runbook.split('#')[1]);
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
    ])
      expect(reads(metric), metric).toBe(true);
  });
});

describe('scrape configuration', () => {
  it('the static variant passes promtool check config', () => {
    expect(promtool('check', 'config', 'prometheus.static.yml')).toMatch(/SUCCESS/);
  });

  it('the Kubernetes variant keeps the five services on the port their manifests serve /metrics on', () => {
    // Debian's promtool is built without Kubernetes discovery, so this file's shape is checked here.
    const config = parse(readFileSync(join(OBSERVABILITY, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { relabel_configs: { regex?: string; action?: string; target_label?: string }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const relabel = config.scrape_configs[0]!.relabel_configs;
    expect(relabel[0]).toMatchObject({ action: 'keep', regex: 'gateway|users|inventory|orders|customers' });
    expect(relabel.some((r) => r.target_label === 'job')).toBe(true);
    for (const service of ['gateway', 'users', 'inventory', 'orders', 'customers']) {
      const configmap = readFileSync(`infra/k8s/base/${service}/configmap.yaml`, 'utf8');
      expect(configmap, service).toMatch(/METRICS_PORT: "9464"/);
      const deployment = readFileSync(`infra/k8s/base/${service}/deployment.yaml`, 'utf8');
      expect(deployment, service).toMatch(/- name: metrics\s+containerPort: 9464/);
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
