/**
 * The backup CronJobs, checked offline (validate.ts runs it on every overlay): each runs the Dockerfile's
 * pgBackRest image with a configuration pgBackRest itself accepts (Debian's `pgbackrest help` reads the
 * rendered file and warns about every option it does not know), a stanza that configuration declares,
 * credentials from Secrets and never from the file, and a schedule the alerts watch. In production the
 * repository must be off the cluster (object storage) and encrypted, and full, differential and
 * archive-check jobs must all exist. The API schemas see none of this.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { K8sObject } from './validate.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG_PATH = '/etc/pgbackrest/pgbackrest.conf';
/** Repository types that live off the cluster (pgBackRest's object stores). */
const OFF_CLUSTER = new Set(['s3', 'gcs', 'azure']);
/** Options that hold a secret: they belong in a Secret, read as PGBACKREST_<OPTION> variables. */
const SECRET_OPTIONS = /^repo\d+-(s3-key|s3-key-secret|s3-token|gcs-key|azure-key|cipher-pass)$/;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  image: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
type CronJobSpec = {
  schedule: string;
  jobTemplate: { spec: { template: { spec: PodSpec } } };
};

/** A pgBackRest configuration: `[section]` → option → value (the last one wins, as in pgBackRest). */
export function parsePgbackrestConf(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      current = sections.get(header[1]!) ?? new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

/** Lines of the Dockerfile's stage `target` (from its FROM to the next). */
function dockerStage(target: string): string[] {
  const lines = readFileSync(path.join(ROOT, 'infra/docker/Dockerfile'), 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${target}\\s*$`, 'i').test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^FROM\s/i.test(l));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** What `pgbackrest help` says about a configuration: the options it does not know, or why it failed. */
function pgbackrestWarnings(text: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-pgbackrest-'));
  try {
    const file = path.join(dir, 'pgbackrest.conf');
    writeFileSync(file, text);
    // It warns on stderr and still exits 0 for an unknown option.
    const run = spawnSync('pgbackrest', [`--config=${file}`, 'help', 'backup'], { encoding: 'utf8' });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
      return ['pgbackrest is not installed here, so the file cannot be checked (apt install pgbackrest)'];
    const warnings = `${run.stdout}\n${run.stderr}`
      .split('\n')
      .filter((l) => l.startsWith('WARN:') || l.startsWith('ERROR:'))
      .map((l) => l.replace(/^(WARN|ERROR):\s*/, ''));
    return [...new Set(warnings)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const envName = (option: string) => `PGBACKREST_${option.toUpperCase().replaceAll('-', '_')}`;

/** Problems of one configuration file, whoever mounts it; the options it leaves to the environment. */
function checkConfig(
  where: string,
  text: string,
  production: boolean,
): { problems: string[]; config: Map<string, Map<string, string>>; fromEnv: string[] } {
  const problems = pgbackrestWarnings(text).map((w) => `${where}: pgbackrest: ${w}`);
  const config = parsePgbackrestConf(text);
  const options = new Map([...config.values()].flatMap((section) => [...section]));
  for (const option of options.keys()) {
    if (SECRET_OPTIONS.test(option))
      problems.push(`${where}: ${option} is a secret: give it as ${envName(option)} from a Secret`);
  }
  const fromEnv: string[] = [];
  const repoType = options.get('repo1-type') ?? 'posix';
  if (repoType === 's3') {
    for (const option of ['repo1-s3-bucket', 'repo1-s3-endpoint', 'repo1-s3-region'])
      if (!options.get(option)) problems.push(`${where}: ${option} missing for repo1-type=s3`);
    if (options.get('repo1-s3-key-type') !== 'auto') fromEnv.push('repo1-s3-key', 'repo1-s3-key-secret');
  }
  const encrypted = (options.get('repo1-cipher-type') ?? 'none') !== 'none';
  if (encrypted) fromEnv.push('repo1-cipher-pass');
  if (production) {
    if (!OFF_CLUSTER.has(repoType))
      problems.push(
        `${where}: repo1-type=${repoType}: production keeps its repository off the cluster (${[...OFF_CLUSTER].join(', ')})`,
      );
    if (!encrypted) problems.push(`${where}: repo1-cipher-type: production encrypts its repository`);
    if (!options.get('repo1-retention-full'))
      problems.push(`${where}: repo1-retention-full: unset, nothing would ever be expired`);
  }
  return { problems, config, fromEnv };
}

export function checkBackups(objects: K8sObject[], { production }: { production: boolean }): string[] {
  const problems: string[] = [];
  const cronJobs = objects.filter((o) => o.kind === 'CronJob');
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
  const alerts = readFileSync(path.join(ROOT, 'infra/observability/alerts.yml'), 'utf8');
  const stage = dockerStage('backup');
  const kinds = new Set<string>();
  const checkedConfigs = new Map<string, ReturnType<typeof checkConfig>>();

  for (const cronJob of cronJobs) {
    const where = `CronJob/${cronJob.metadata.name}`;
    const spec = cronJob.spec as CronJobSpec;
    const pod = spec.jobTemplate.spec.template.spec;
    const field = 'spec.jobTemplate.spec.template.spec';
    if (!alerts.includes(`cronjob="${cronJob.metadata.name}"`))
      problems.push(
        `${where}: no alert in infra/observability/alerts.yml watches its last success (cronjob="${cronJob.metadata.name}")`,
      );
    pod.containers.forEach((container, index) => {
      const at = `${where}: ${field}.containers[${index}]`;
      const target = container.image.split('/').pop()!.split(/[:@]/)[0]!;
      if (target !== 'backup') return;
      if (!stage.some((l) => /^RUN\b.*\bpgbackrest\b/.test(l) || /^\s+&&.*\bpgbackrest\b/.test(l)))
        problems.push(`${at}.image: the Dockerfile's backup target does not install pgbackrest`);
      if (!stage.some((l) => /^ENTRYPOINT\s+\["pgbackrest"\]/.test(l)))
        problems.push(`${at}.image: the Dockerfile's backup target's ENTRYPOINT is not ["pgbackrest"]`);
      if (container.command)
        problems.push(`${at}.command: overrides the image's pgbackrest entry point; pass pgBackRest arguments as args`);

      // The configuration file, as mounted.
      const mount = container.volumeMounts?.find(
        (m) => m.mountPath === CONFIG_PATH || m.mountPath === path.dirname(CONFIG_PATH),
      );
      const volume = pod.volumes?.find((v) => v.name === mount?.name);
      const mapName = volume?.configMap?.name;
      const key = mount?.subPath ?? 'pgbackrest.conf';
      const text = mapName ? configMaps.get(mapName)?.[key] : undefined;
      if (!text) {
        problems.push(`${at}.volumeMounts: no ConfigMap of this overlay is mounted at ${CONFIG_PATH}`);
        return;
      }
      if (!checkedConfigs.has(mapName!)) {
        const checked = checkConfig(`ConfigMap/${mapName}: data.${key}`, text, production);
        problems.push(...checked.problems);
        checkedConfigs.set(mapName!, checked);
      }
      const { config, fromEnv } = checkedConfigs.get(mapName!)!;

      const args = container.args ?? [];
      const stanza = args.find((a) => a.startsWith('--stanza='))?.slice('--stanza='.length);
      if (!stanza) problems.push(`${at}.args: no --stanza=`);
      else if (!config.has(stanza))
        problems.push(`${at}.args: --stanza=${stanza}, but ConfigMap/${mapName} has no [${stanza}] section`);
      const command = args.filter((a) => !a.startsWith('-')).at(-1);
      const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
      if (command === 'backup') kinds.add(type ?? 'incr');
      else if (command) kinds.add(command);
      for (const option of fromEnv) {
        const variable = container.env?.find((e) => e.name === envName(option));
        if (!variable?.valueFrom?.secretKeyRef)
          problems.push(`${at}.env: ${envName(option)} must come from a Secret (secretKeyRef)`);
      }
    });
  }
  if (production) {
    for (const [kind, what] of [
      ['full', 'full backups (backup --type=full)'],
      ['diff', 'differential backups (backup --type=diff)'],
      ['check', 'a check that WAL archiving works (check)'],
    ] as const) {
      if (!kinds.has(kind)) problems.push(`CronJob: none takes ${what}`);
    }
  }
  return problems;
}
