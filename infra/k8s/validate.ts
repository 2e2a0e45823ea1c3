/**
 * Offline checks of the Kubernetes manifests (`pnpm k8s:check`; CI runs it):
 * 1. every overlay renders with `kubectl kustomize`;
 * 2. every object validates against its API schema: Kubernetes (`kubernetes-models`), Istio
 *    (`@kubernetes-models/istio`) and cert-manager (`@kubernetes-models/cert-manager`); the VPA, which
 *    none covers, gets a structural check;
 * 3. the manifests agree with the code: each container's port is the PORT its service listens on (its
 *    env schema's default, or the ConfigMap's), probes ask paths the server serves (/ready for
 *    readiness), every ConfigMap key is a variable of that service's env schema, every variable the
 *    service requires in production comes from the ConfigMap or a Secret, no Secret carries values,
 *    and each image names a Dockerfile target that runs the same file as the package's start script;
 * 4. the way in (ingress.ts): the Istio Gateway, its VirtualService and the cert-manager Certificate
 *    agree with each other, with the Services they reach and with the gateway process;
 * 5. the backup CronJobs (backup.ts): pgBackRest's image, a configuration pgBackRest accepts, secrets
 *    from Secrets, an alert per schedule, and in production an encrypted repository off the cluster.
 * Every problem names the overlay, the object and the field.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@stockgraph/config';
import { parseGatewayEnv } from '@stockgraph/gateway/env';
import { parseAllDocuments } from 'yaml';
import { loadSubgraphServices } from '@stockgraph/ops';
import { SUBGRAPH_NAMES, subgraphEntry, type SubgraphName } from '@stockgraph/registry';
import { checkBackups } from './backup.js';
import { checkIngress, type Workload } from './ingress.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OVERLAYS = ['base', 'overlays/dev', 'overlays/prod'];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** How each service reads its environment: the very functions its server.ts calls. */
const ENV_PARSERS: Record<string, (source: NodeJS.ProcessEnv) => Record<string, unknown>> = {
  gateway: parseGatewayEnv,
  ...Object.fromEntries((await loadSubgraphServices()).map((service) => [service.definition.name, service.parseEnv])),
};

/**
 * Set by the manifests before the code that reads them is merged: both arrive with the branch that
 * adds the gateway-subgraph credential and the separate metrics port. Remove once the schemas have them.
 */

/** Stand-ins for Secret values, valid for the schemas, so a production parse can run offline. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: 'postgres://service:secret@postgres.example:5432/stockgraph',
  DATABASE_REPLICA_URLS: 'postgres://service:secret@postgres-replica.example:5432/stockgraph',
  REDIS_URL: 'redis://redis.example:6379',
  CACHE_REDIS_URL: 'redis://cache-redis.example:6379',
  JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  SUBGRAPH_SHARED_SECRET: 'x'.repeat(48),
};

export function render(overlay: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', path.join(ROOT, 'infra/k8s', overlay)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

type ModelClass = new (data: unknown) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | 'vpa' | undefined> {
  if (apiVersion === 'autoscaling.k8s.io/v1' && kind === 'VerticalPodAutoscaler') return 'vpa';
  const module = apiVersion.includes('.istio.io/')
    ? `@kubernetes-models/istio/${apiVersion}`
    : apiVersion.startsWith('cert-manager.io/')
      ? `@kubernetes-models/cert-manager/${apiVersion}`
      : `kubernetes-models/${apiVersion}`;
  try {
    const loaded = (await import(module)) as Record<string, ModelClass>;
    return loaded[kind];
  } catch {
    return undefined;
  }
}

function checkVpa(object: K8sObject): string[] {
  const spec = object.spec as {
    targetRef?: { apiVersion?: string; kind?: string; name?: string };
    updatePolicy?: { updateMode?: string };
  };
  const problems: string[] = [];
  if (!spec?.targetRef?.kind || !spec.targetRef.name || !spec.targetRef.apiVersion)
    problems.push('spec.targetRef: apiVersion, kind and name required');
  const mode = spec?.updatePolicy?.updateMode;
  if (mode !== 'Off')
    problems.push(
      `spec.updatePolicy.updateMode: ${JSON.stringify(mode)}, must be "Off" (recommendations only; the HPA scales)`,
    );
  return problems;
}

/** Schema validation of one object; problems name the field. */
export async function validateSchema(object: K8sObject): Promise<string[]> {
  const model = await modelFor(object.apiVersion, object.kind);
  if (model === 'vpa') return checkVpa(object);
  if (!model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    const e = error as { errors?: { instancePath?: string; message?: string }[]; message: string };
    if (e.errors?.length)
      return e.errors.map(
        (x) => `${(x.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || '(root)'}: ${x.message}`,
      );
    return [e.message];
  }
}

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
  }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}

/** The paths startService answers, read from its source. */
export function servedPaths(): Set<string> {
  const source = readFileSync(path.join(ROOT, 'packages/server/src/service.ts'), 'utf8');
  const paths = new Set([...source.matchAll(/app\.(?:get|use)\(\s*'(\/[^']*)'/g)].map((m) => m[1]!));
  if (paths.size === 0) throw new Error('found no routes in packages/server/src/service.ts');
  return paths;
}

/**
 * Dockerfile target → the file its CMD runs. A CMD file the stage links (`RUN ln -s <file> <link>`) is the
 * file it links to, still holding the stage's build arguments (`${SUBGRAPH}`): see imageSource.
 */
export function dockerTargets(): Map<string, string | undefined> {
  const text = readFileSync(path.join(ROOT, 'infra/docker/Dockerfile'), 'utf8');
  const targets = new Map<string, string | undefined>();
  let current: string | undefined;
  let links = new Map<string, string>();
  for (const line of text.split('\n')) {
    const from = line.match(/^FROM\s+\S+\s+AS\s+(\S+)/i);
    if (from) {
      targets.set((current = from[1]!), undefined);
      links = new Map();
    }
    const link = line.match(/\bln -s (\S+) (\S+)/);
    if (link) links.set(link[2]!, link[1]!);
    const cmd = line.match(/^CMD\s+(\[.*\])/);
    if (cmd && current) {
      const file = (JSON.parse(cmd[1]!) as string[]).find((a) => a.endsWith('.js'));
      targets.set(current, file && (links.get(file) ?? file));
    }
  }
  return targets;
}

/**
 * The Dockerfile target an image is built from and the file it runs: a subgraph of the registry is the
 * one `subgraph` target built with SUBGRAPH=<its name> (infra/docker/buildah/build.sh); anything else is
 * the target its image is named after.
 */
export function imageSource(
  image: string,
  targets: Map<string, string | undefined>,
): { target: string; file?: string } {
  const name = imageTarget(image);
  if (!SUBGRAPH_NAMES.includes(name as SubgraphName)) return { target: name, file: targets.get(name) };
  return { target: 'subgraph', file: targets.get('subgraph')?.replaceAll('${SUBGRAPH}', name) };
}

/** The file a package's `start` script runs with node. */
function startFile(service: string): string | undefined {
  const dirs: Record<string, string> = { gateway: 'gateway', migrate: 'infra/migrate', checker: 'cli' };
  const dir = dirs[service] ?? subgraphEntry(service).dir;
  const manifest = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  return manifest.scripts?.start?.split(/\s+/).find((w) => w.endsWith('.js'));
}

function imageTarget(image: string): string {
  const last = image.split('/').pop()!;
  return last.split(/[:@]/)[0]!;
}

/** The manifests against the code; `objects` is one rendered overlay (`production`: overlays/prod). */
export function checkAgainstCode(objects: K8sObject[], { production = false } = {}): string[] {
  const problems: string[] = [];
  const parsed = new Map<string, Workload>();
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
  const paths = servedPaths();
  const targets = dockerTargets();
  for (const secret of objects.filter((o) => o.kind === 'Secret')) {
    if (secret.data || secret.stringData)
      problems.push(
        `Secret/${secret.metadata.name}: data: Secrets are referenced by name, never written in the manifests`,
      );
  }
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job' || o.kind === 'CronJob');
  for (const workload of workloads) {
    const where = `${workload.kind}/${workload.metadata.name}`;
    type PodTemplate = { template: { spec: { containers: Container[] } } };
    const template =
      workload.kind === 'CronJob'
        ? (workload.spec as { jobTemplate: { spec: PodTemplate } }).jobTemplate.spec
        : (workload.spec as PodTemplate);
    const prefix = workload.kind === 'CronJob' ? 'spec.jobTemplate.spec.' : 'spec.';
    template.template.spec.containers.forEach((container, index) => {
      const field = `${prefix}template.spec.containers[${index}]`;
      const target = imageTarget(container.image);
      const source = imageSource(container.image, targets);
      if (!targets.has(source.target)) {
        problems.push(
          `${where}: ${field}.image: ${container.image} names no target of infra/docker/Dockerfile ` +
            `(${[...targets.keys()].join(', ')})`,
        );
      } else if (source.file !== undefined && source.file !== startFile(target)) {
        // Node targets only: the backup target runs pgBackRest (backup.ts checks it).
        problems.push(
          `${where}: ${field}.image: Dockerfile target ${source.target} runs ${source.file}, ` +
            `its package's start runs ${startFile(target)}`,
        );
      }
      const parse = ENV_PARSERS[target];
      if (!parse) return;
      // What the container's environment holds: ConfigMaps in full, Secrets by reference (placeholders).
      const provided: Record<string, string> = {};
      for (const from of container.envFrom ?? []) {
        const data = from.configMapRef ? configMaps.get(from.configMapRef.name) : undefined;
        if (from.configMapRef && !data)
          problems.push(`${where}: ${field}.envFrom: ConfigMap ${from.configMapRef.name} is not in this overlay`);
        Object.assign(provided, data ?? {});
      }
      const fromConfigMap = new Set(Object.keys(provided));
      for (const variable of container.env ?? []) {
        if (variable.value !== undefined) provided[variable.name] = variable.value;
        else if (variable.valueFrom?.secretKeyRef)
          provided[variable.name] = SECRET_PLACEHOLDERS[variable.name] ?? 'placeholder';
      }
      let env: Record<string, unknown>;
      try {
        env = parse({ ...provided });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const p of error.problems) problems.push(`${where}: ${field}.env: ${p}`);
        return;
      }
      if (workload.kind === 'Deployment' && index === 0) parsed.set(workload.metadata.name, { target, env });
      for (const name of Object.keys(provided)) {
        if (name in env) continue;
        const source = fromConfigMap.has(name)
          ? `ConfigMap ${container.envFrom?.find((f) => f.configMapRef)?.configMapRef?.name}`
          : 'env';
        problems.push(`${where}: ${field}.env: ${name} (from ${source}) is not a variable of ${target}'s env schema`);
      }
      const port = env.PORT as number;
      const http = container.ports?.find((p) => p.name === 'http');
      if (!http) problems.push(`${where}: ${field}.ports: no port named http`);
      else if (http.containerPort !== port) {
        problems.push(
          `${where}: ${field}.ports[http].containerPort: ${http.containerPort}, but ${target} listens on PORT ${port}`,
        );
      }
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
        const probe = container[kind]?.httpGet;
        if (!probe) {
          problems.push(`${where}: ${field}.${kind}: missing (an httpGet probe)`);
          continue;
        }
        if (!probe.path || !paths.has(probe.path)) {
          problems.push(
            `${where}: ${field}.${kind}.httpGet.path: ${probe.path} is not served (${[...paths].join(', ')})`,
          );
        }
        if (kind === 'readinessProbe' && probe.path !== '/ready')
          problems.push(`${where}: ${field}.readinessProbe.httpGet.path: ${probe.path}, must be /ready`);
        if (probe.port !== 'http' && probe.port !== port)
          problems.push(`${where}: ${field}.${kind}.httpGet.port: ${probe.port} is not the http port (${port})`);
      }
    });
  }
  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const name = service.metadata.name;
    const ports = (service.spec as { ports: { name?: string; port: number; targetPort?: string | number }[] }).ports;
    const deployment = workloads.find((w) => w.kind === 'Deployment' && w.metadata.name === name);
    const container =
      deployment &&
      (deployment.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0];
    ports.forEach((p, i) => {
      const target = p.targetPort ?? p.port;
      const match = container?.ports?.find((c) => c.name === target || c.containerPort === target);
      if (!match)
        problems.push(`Service/${name}: spec.ports[${i}].targetPort: ${target} is no port of Deployment/${name}`);
    });
  }
  problems.push(...checkIngress(objects, { workloads: parsed, production }));
  problems.push(...checkBackups(objects, { production }));
  return problems;
}

export async function checkOverlay(overlay: string): Promise<string[]> {
  const objects = render(overlay);
  const problems: string[] = [];
  for (const object of objects) {
    for (const p of await validateSchema(object)) problems.push(`${object.kind}/${object.metadata?.name}: ${p}`);
  }
  problems.push(...checkAgainstCode(objects, { production: overlay === 'overlays/prod' }));
  return problems.map((p) => `${overlay}: ${p}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  let failed = false;
  for (const overlay of OVERLAYS) {
    const problems = await checkOverlay(overlay);
    failed ||= problems.length > 0;
    for (const p of problems) process.stderr.write(`${p}\n`);
    process.stdout.write(`${overlay}: ${render(overlay).length} objects, ${problems.length} problems\n`);
  }
  process.exit(failed ? 1 : 0);
}
