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
});
