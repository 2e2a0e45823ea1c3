import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstCode, OVERLAYS, render, validateSchema, type K8sObject } from '../infra/k8s/validate.js';

/**
 * The manifests under infra/k8s, rendered with `kubectl kustomize` (Debian's kubernetes-client; .ci/run
 * installs it), validated against the Kubernetes and Istio schemas and checked against the code; and
 * each kind of mistake an operator could make fails with a message naming the object and the field.
 */
const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  for (const overlay of OVERLAYS) rendered.set(overlay, render(overlay));
});

function prod(): K8sObject[] {
  return structuredClone(rendered.get('overlays/prod')!);
}

/** What the validator says about a changed production overlay. */
function problemsOf(objects: K8sObject[]): string {
  return checkAgainstCode(objects, { production: true }).join('\n');
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
}

/** Sets the field at a dotted path (`spec.template.spec.containers.0.image`), as a careless edit would. */
function set(object: K8sObject, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = object as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

const CONTAINER = 'spec.template.spec.containers.0';

describe('Kubernetes manifests', () => {
  it('render, validate against the API schemas and agree with the code, in every overlay', async () => {
    for (const [overlay, objects] of rendered) {
      const problems: string[] = [];
      for (const o of objects)
        for (const p of await validateSchema(o)) problems.push(`${o.kind}/${o.metadata.name}: ${p}`);
      problems.push(...checkAgainstCode(objects));
      expect(problems, overlay).toEqual([]);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of [
        'Deployment',
        'Service',
        'ServiceAccount',
        'ConfigMap',
        'HorizontalPodAutoscaler',
        'VerticalPodAutoscaler',
        'PodDisruptionBudget',
        'NetworkPolicy',
        'Job',
        'PeerAuthentication',
        'AuthorizationPolicy',
        'DestinationRule',
        'VirtualService',
        'Gateway',
        'Certificate',
        'CronJob',
      ]) {
        expect(kinds.has(kind), `${overlay} has a ${kind}`).toBe(true);
      }
    }
    const hpas = rendered.get('overlays/prod')!.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => (h.spec as { minReplicas: number }).minReplicas)).toEqual([2, 2, 2, 2, 2]);
  });

  it("gives the production gateway a cache Redis of its own, apart from the saga's (issue 28, finding 18)", () => {
    // Without it rate-limit, APQ and read-your-writes keys land in the streams' noeviction Redis.
    type Env = { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
    const spec = find(prod(), 'Deployment', 'gateway').spec as { template: { spec: { containers: { env: Env }[] } } };
    const env = spec.template.spec.containers[0]!.env;
    const secretOf = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name;
    expect(secretOf('CACHE_REDIS_URL')).toBeDefined();
    expect(secretOf('CACHE_REDIS_URL')).not.toBe(secretOf('REDIS_URL'));
  });

  it('names the object and field of a wrong port, probe path, env name, missing secret or image', () => {
    const objects = prod();
    const orders = find(objects, 'Deployment', 'orders');
    set(orders, `${CONTAINER}.ports.0.containerPort`, 4005);
    set(orders, `${CONTAINER}.readinessProbe.httpGet.path`, '/healthz');
    set(find(objects, 'ConfigMap', 'customers'), 'data.DATABSE_POOL_MAX', '5');
    const users = find(objects, 'Deployment', 'users');
    const usersContainer = (users.spec as { template: { spec: { containers: { env: { name: string }[] }[] } } })
      .template.spec.containers[0]!;
    usersContainer.env = usersContainer.env.filter((e) => e.name !== 'JWT_PRIVATE_KEY');
    set(
      find(objects, 'Deployment', 'inventory'),
      `${CONTAINER}.image`,
      'registry.example.com/stockgraph/inventroy:1.0.0',
    );
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'stockgraph-jwt' },
      data: { JWT_PRIVATE_KEY: 'c2VjcmV0' },
    });
    const problems = checkAgainstCode(objects).join('\n');
    expect(problems).toContain(
      'Deployment/orders: spec.template.spec.containers[0].ports[http].containerPort: 4005, ' +
        'but orders listens on PORT 4003',
    );
    expect(problems).toContain(
      'Deployment/orders: spec.template.spec.containers[0].readinessProbe.httpGet.path: /healthz is not served',
    );
    expect(problems).toContain(
      'Deployment/customers: spec.template.spec.containers[0].env: ' +
        'DATABSE_POOL_MAX (from ConfigMap customers) is not a variable of customers',
    );
    expect(problems).toContain(
      'Deployment/users: spec.template.spec.containers[0].env: JWT_PRIVATE_KEY: required in production',
    );
    expect(problems).toContain(
      'Deployment/inventory: spec.template.spec.containers[0].image: ' +
        'registry.example.com/stockgraph/inventroy:1.0.0 names no target',
    );
    expect(problems).toContain('Secret/stockgraph-jwt: data: Secrets are referenced by name');
  });

  it('names the field an object breaks its API schema with', async () => {
    const hpa = find(prod(), 'HorizontalPodAutoscaler', 'gateway');
    set(hpa, 'spec.minReplicas', 'two');
    expect((await validateSchema(hpa)).join('\n')).toMatch(/spec\.minReplicas: must be integer/);
    const vs = find(prod(), 'VirtualService', 'orders');
    set(vs, 'spec.http.0.route.0.weight', 'all');
    expect((await validateSchema(vs)).join('\n')).toMatch(/spec\.http\.0\.route\.0\.weight/);
    const vpa = find(prod(), 'VerticalPodAutoscaler', 'orders');
    set(vpa, 'spec.updatePolicy.updateMode', 'Auto');
    expect((await validateSchema(vpa)).join('\n')).toContain('spec.updatePolicy.updateMode: "Auto", must be "Off"');
  });

  describe('the ingress (issue 27, item 5)', () => {
    type Route = { name?: string; timeout?: string; match?: unknown[]; route?: unknown[] };
    const routes = (objects: K8sObject[]) =>
      (find(objects, 'VirtualService', 'stockgraph').spec as { http: Route[] }).http;
    const index = (objects: K8sObject[], name: string) => routes(objects).findIndex((r) => r.name === name);

    it('serves the gateway over TLS from a cert-manager certificate; production from a ClusterIssuer', () => {
      for (const [overlay, objects] of rendered) {
        const gateway = find(objects, 'Gateway', 'stockgraph');
        const certificate = find(objects, 'Certificate', 'stockgraph-tls');
        expect(gateway.metadata.namespace, overlay).toBe(certificate.metadata.namespace);
        const issuer = (certificate.spec as { issuerRef: { kind: string } }).issuerRef.kind;
        expect(issuer, overlay).toBe(overlay === 'overlays/prod' ? 'ClusterIssuer' : 'Issuer');
      }
      expect(rendered.get('overlays/prod')!.some((o) => o.kind === 'Issuer')).toBe(false);
      expect(problemsOf(prod())).toBe('');
      // The self-signed issuer of base and dev is refused in production.
      expect(problemsOf(structuredClone(rendered.get('overlays/dev')!))).toContain(
        'Certificate/stockgraph-tls: spec.issuerRef: Issuer stockgraph-selfsigned is self-signed; production needs',
      );
      expect(checkAgainstCode(structuredClone(rendered.get('overlays/dev')!))).toEqual([]);
    });

    it('refuses a Gateway without the redirect, on a wrong port, or without its certificate', () => {
      let objects = prod();
      const gateway = find(objects, 'Gateway', 'stockgraph');
      set(gateway, 'spec.servers.0.tls', undefined);
      set(gateway, 'spec.servers.1.port.number', 8443);
      expect(problemsOf(objects)).toContain(
        'Gateway/stockgraph: spec.servers[0].tls.httpsRedirect: must be true (plain HTTP only redirects to HTTPS)',
      );
      expect(problemsOf(objects)).toContain(
        'Gateway/stockgraph: spec.servers[1].port.number: 8443, but the ingress gateway serves HTTPS on 443',
      );

      objects = prod();
      set(find(objects, 'Gateway', 'stockgraph'), 'spec.servers.1.tls.credentialName', undefined);
      expect(problemsOf(objects)).toContain('Gateway/stockgraph: spec.servers[1].tls.credentialName: missing');

      objects = prod();
      set(find(objects, 'Certificate', 'stockgraph-tls'), 'spec.secretName', 'stockgraph-cert');
      expect(problemsOf(objects)).toContain(
        'Gateway/stockgraph: spec.servers[1].tls.credentialName: stockgraph-tls is the secretName of no Certificate ' +
          'in namespace istio-ingress',
      );

      // Istio reads the Secret from the ingress gateway's namespace, not the application's.
      objects = prod();
      set(find(objects, 'Certificate', 'stockgraph-tls'), 'metadata.namespace', 'stockgraph');
      expect(problemsOf(objects)).toContain(
        'stockgraph-tls is the secretName of no Certificate in namespace istio-ingress',
      );

      objects = prod();
      set(find(objects, 'Certificate', 'stockgraph-tls'), 'spec.dnsNames', ['api.example.com']);
      expect(problemsOf(objects)).toContain(
        'Certificate/stockgraph-tls: spec.dnsNames: api.example.com do not cover stockgraph.example.com',
      );

      objects = prod();
      set(find(objects, 'Certificate', 'stockgraph-tls'), 'spec.issuerRef', { kind: 'Issuer', name: 'missing' });
      expect(problemsOf(objects)).toContain(
        'Certificate/stockgraph-tls: spec.issuerRef: Issuer missing is not in namespace istio-ingress',
      );
    });

    it('refuses routes to a Service or port that does not exist, and timeouts Istio would refuse', () => {
      const objects = prod();
      const vs = find(objects, 'VirtualService', 'stockgraph');
      const requests = index(objects, 'requests');
      set(vs, `spec.http.${requests}.route.0.destination.port.number`, 4001);
      set(vs, `spec.http.${index(objects, 'sse')}.route.0.destination.host`, 'gatway.stockgraph.svc.cluster.local');
      set(find(objects, 'VirtualService', 'orders'), 'spec.http.0.timeout', '0s');
      const problems = problemsOf(objects);
      expect(problems).toContain(
        `VirtualService/stockgraph: spec.http[${requests}].route[0].destination.port.number: 4001 is no port of Service/gateway (4000)`,
      );
      expect(problems).toContain(
        `VirtualService/stockgraph: spec.http[${index(objects, 'sse')}].route[0].destination.host: ` +
          'gatway.stockgraph.svc.cluster.local is no Service of this overlay',
      );
      expect(problems).toContain('VirtualService/orders: spec.http[0].timeout: 0s: Istio refuses a timeout under 1ms');
    });

    it('keeps the route timeout off live subscriptions, and above the subgraph deadline elsewhere', () => {
      let objects = prod();
      const sse = index(objects, 'sse');
      set(find(objects, 'VirtualService', 'stockgraph'), `spec.http.${sse}.timeout`, '60s');
      expect(problemsOf(objects)).toContain(
        `VirtualService/stockgraph: spec.http[${sse}] (sse).timeout: 60s would end every SSE subscription at that age`,
      );

      // The catch-all with its timeout moved in front of the WebSocket route takes the upgrades.
      objects = prod();
      const http = routes(objects);
      const [requests] = http.splice(index(objects, 'requests'), 1);
      http.splice(index(objects, 'websocket'), 0, requests!);
      expect(problemsOf(objects)).toMatch(
        /spec\.http\[\d\] \(requests\): has a timeout and comes before spec\.http\[\d\] \(websocket\), so it takes the WebSocket/,
      );

      objects = prod();
      routes(objects).splice(index(objects, 'websocket'), 1);
      expect(problemsOf(objects)).toContain(
        'VirtualService/stockgraph: spec.http: no route sends WebSocket subscriptions (upgrade: websocket on /graphql)',
      );

      objects = prod();
      routes(objects)[index(objects, 'requests')]!.timeout = '10s';
      expect(problemsOf(objects)).toContain(
        "(requests).timeout: 10s is not above the gateway's SUBGRAPH_TIMEOUT_MS (10000 ms)",
      );
    });

    it("refuses at the edge exactly the bodies the gateway would refuse (express.json's '1mb')", () => {
      const regex = (objects: K8sObject[]) =>
        (routes(objects)[index(objects, 'body-too-large')]!.match![0] as { headers: Record<string, { regex: string }> })
          .headers['content-length']!;
      let objects = prod();
      regex(objects).regex = '[0-9]{7,}'; // refuses 1000000, which the gateway takes
      expect(problemsOf(objects)).toContain(
        "(body-too-large).match.headers.content-length: refuses 1048576 bytes, which the gateway accepts ('1mb')",
      );
      objects = prod();
      regex(objects).regex = '[0-9]{8,}'; // lets up to 9.5 MiB through
      expect(problemsOf(objects)).toContain(
        "(body-too-large).match.headers.content-length: lets 1048577 bytes through, above the gateway's '1mb'",
      );
      objects = prod();
      routes(objects).splice(index(objects, 'body-too-large'), 1);
      expect(problemsOf(objects)).toContain(
        'VirtualService/stockgraph: spec.http: no route before spec.http[1] (websocket) answers 413 to a Content-Length above 1048576',
      );
    });

    it('lets the ingress gateway, and only a hop count of proxies, reach the gateway', () => {
      // Policies that name istio-system (istioctl's default) while the ingress gateway runs in istio-ingress.
      let objects = prod();
      const peer = (
        find(objects, 'NetworkPolicy', 'gateway').spec as {
          ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }[];
        }
      ).ingress[0]!.from[0]!;
      peer.namespaceSelector.matchLabels = { 'kubernetes.io/metadata.name': 'istio-system' };
      set(find(objects, 'AuthorizationPolicy', 'gateway'), 'spec.rules.0.from.0.source.namespaces', ['istio-system']);
      set(find(objects, 'ConfigMap', 'gateway'), 'data.TRUST_PROXY', 'loopback, 10.0.0.0/8');
      const problems = problemsOf(objects);
      expect(problems).toContain(
        'Deployment/gateway: no NetworkPolicy lets the ingress gateway (namespace istio-ingress, pods istio=ingress) reach it on port 4000',
      );
      expect(problems).toContain(
        'Deployment/gateway: no rule of AuthorizationPolicy/allow-nothing, AuthorizationPolicy/gateway lets the ingress ' +
          'gateway (namespace istio-ingress, pods istio=ingress) reach it on port 4000',
      );
      expect(problems).toContain(
        'Deployment/gateway: spec.template.spec.containers[0].env: TRUST_PROXY: "loopback, 10.0.0.0/8"; behind the ingress gateway it must be a hop count',
      );
      objects = prod();
      set(find(objects, 'ConfigMap', 'gateway'), 'data.TRUST_PROXY', '0');
      expect(problemsOf(objects)).toContain('TRUST_PROXY: 0; behind the ingress gateway it must be a hop count');
    });

    it('validates the Certificate against the cert-manager schema', async () => {
      const certificate = find(prod(), 'Certificate', 'stockgraph-tls');
      set(certificate, 'spec.secretName', undefined);
      expect((await validateSchema(certificate)).join('\n')).toContain('spec: must have required property secretName');
    });
  });

  describe('the backup CronJobs (issue 28, item 4)', () => {
    const configOf = (objects: K8sObject[]) =>
      objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('stockgraph-pgbackrest'))!;
    const JOB = 'spec.jobTemplate.spec.template.spec.containers.0';

    it('schedule full, differential and archive checks into an encrypted S3 repository off the cluster in production', () => {
      const objects = prod();
      const schedules = Object.fromEntries(
        objects
          .filter((o) => o.kind === 'CronJob')
          .map((o) => [o.metadata.name, (o.spec as { schedule: string }).schedule]),
      );
      expect(schedules).toEqual({
        'stockgraph-backup-full': '0 1 * * 0',
        'stockgraph-backup-diff': '0 1 * * 1-6',
        'stockgraph-backup-check': '*/15 * * * *',
      });
      const config = configOf(objects).data!['pgbackrest.conf']!;
      expect(config).toMatch(/^repo1-type=s3$/m);
      expect(config).toMatch(/^repo1-cipher-type=aes-256-cbc$/m);
      expect(config).toContain('repo1-s3-bucket=stockgraph-backups-prod');
      expect(problemsOf(objects)).toBe('');
    });

    it('names a secret in the file, keys not from a Secret, an unknown option, a repository in the cluster, a lost schedule', () => {
      const objects = prod();
      const map = configOf(objects);
      map.data!['pgbackrest.conf'] = map
        .data!['pgbackrest.conf']!.replace(/^repo1-type=s3$/m, 'repo1-type=posix')
        .replace(/^repo1-cipher-type=.*$/m, 'repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=hunter2')
        .replace(/^start-fast=y$/m, 'start-fastt=y');
      const full = find(objects, 'CronJob', 'stockgraph-backup-full');
      set(full, `${JOB}.env`, [{ name: 'PGBACKREST_REPO1_CIPHER_PASS', value: 'hunter2' }]);
      const index = objects.findIndex((o) => o.kind === 'CronJob' && o.metadata.name === 'stockgraph-backup-diff');
      objects.splice(index, 1);
      const problems = problemsOf(objects);
      expect(problems).toMatch(
        /ConfigMap\/stockgraph-pgbackrest-\w+: data\.pgbackrest\.conf: pgbackrest: .*invalid option 'start-fastt'/,
      );
      expect(problems).toMatch(
        /data\.pgbackrest\.conf: repo1-cipher-pass is a secret: give it as PGBACKREST_REPO1_CIPHER_PASS from a Secret/,
      );
      expect(problems).toMatch(/repo1-type=posix: production keeps its repository off the cluster/);
      expect(problems).toContain(
        'CronJob/stockgraph-backup-full: spec.jobTemplate.spec.template.spec.containers[0].env: ' +
          'PGBACKREST_REPO1_CIPHER_PASS must come from a Secret',
      );
      expect(problems).toContain('CronJob: none takes differential backups (backup --type=diff)');
    });

    it('names S3 keys missing from the environment, a stanza the file lacks, an image without pgBackRest', () => {
      const objects = prod();
      const check = find(objects, 'CronJob', 'stockgraph-backup-check');
      set(check, `${JOB}.env`, []);
      set(check, `${JOB}.args`, ['--stanza=stockgraf', 'check']);
      set(
        find(objects, 'CronJob', 'stockgraph-backup-diff'),
        `${JOB}.image`,
        'registry.example.com/stockgraph/backups:1.0.0',
      );
      const problems = problemsOf(objects);
      expect(problems).toContain('PGBACKREST_REPO1_S3_KEY must come from a Secret');
      expect(problems).toContain('PGBACKREST_REPO1_S3_KEY_SECRET must come from a Secret');
      expect(problems).toContain('--stanza=stockgraf, but ConfigMap/');
      expect(problems).toContain(
        'CronJob/stockgraph-backup-diff: spec.jobTemplate.spec.template.spec.containers[0].image: ' +
          'registry.example.com/stockgraph/backups:1.0.0 names no target',
      );
    });
  });
});
