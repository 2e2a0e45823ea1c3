/**
 * `pnpm monitoring:targets [FILE]`: writes the Prometheus targets of every service of the registry (file_sd
 * JSON) for `infra/observability/prometheus.static.yml`, from the same variables the services read:
 * PORT (the subgraphs on PORT + their offset, as `pnpm start` runs them), or each subgraph's `<NAME>_URL`,
 * and METRICS_PORT when /metrics is served apart. Default FILE: infra/observability/targets/stockgraph.json.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exitOnConfigError } from '@stockgraph/config';
import { prometheusTargets } from '@stockgraph/ops/monitoring';

try {
  const file = resolve(process.argv[2] ?? 'infra/observability/targets/stockgraph.json');
  const groups = prometheusTargets();
  mkdirSync(dirname(file), { recursive: true });
  // Prometheus rereads the file when it changes: write it whole, then move it into place.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  process.stdout.write(`${groups.map((g) => `${g.labels.job} ${g.targets.join(' ')}`).join('\n')}\n→ ${file}\n`);
} catch (error) {
  exitOnConfigError(error);
}
