import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const OBSERVABILITY = 'infra/observability';
export const DASHBOARDS = join(OBSERVABILITY, 'dashboards');

export interface DashboardTarget {
  refId?: string;
  expr?: string;
}

export interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  templating?: { list?: { name: string }[] };
  panels?: DashboardPanel[];
}

export function dashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

type AlertRule = Rule & { alert: string };

/** The rule files Prometheus loads (prometheus.yml's rule_files): alerts, and the service levels' SLIs and burn-rate alerts. */
export const RULE_FILES = ['alerts.yml', 'slo.yml'];

/** Every rule of every rule file, recording rules included, with the file it is in. */
export function rules(): (Rule & { file: string })[] {
  return RULE_FILES.flatMap((file) => {
    const parsed = parse(readFileSync(join(OBSERVABILITY, file), 'utf8')) as { groups: { rules: Rule[] }[] };
    return parsed.groups.flatMap((g) => g.rules.map((rule) => ({ ...rule, file })));
  });
}

export function alertRules(): AlertRule[] {
  return rules().filter((rule): rule is Rule & { file: string; alert: string } => rule.alert !== undefined);
}

/** Grafana's variables replaced by values Prometheus accepts, so a dashboard query can be parsed by promtool. */
export function asPromQL(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll(/\$\{?([a-z_]+)\}?/gi, 'x');
}

/** Every PromQL expression of the dashboards and the alert rules. */
export function allExpressions(): { where: string; expr: string }[] {
  const fromDashboards = dashboards().flatMap(({ file, dashboard }) =>
    (dashboard.panels ?? []).flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `${file} / ${p.title} / ${t.refId}`, expr: t.expr ?? '' })),
    ),
  );
  const fromRules = rules().map((r) => ({ where: `${r.file} / ${r.alert ?? r.record}`, expr: r.expr }));
  return [...fromDashboards, ...fromRules];
}

/** Metric names an expression reads: ours, Node's and the process's (label names and functions are not these). */
export function metricNames(expr: string): string[] {
  const names = expr.match(/\b(?:stockgraph|process|nodejs)_[a-z0-9_]+\b/g) ?? [];
  return [...new Set(names)];
}

/** Names a /metrics page exposes, histogram and summary series included. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!typed) continue;
    const name = typed[1]!;
    const type = typed[2];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
