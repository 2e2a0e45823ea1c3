/**
 * The way in, checked offline (validate.ts runs it on every overlay): the Istio Gateway, the
 * VirtualServices bound to it and the cert-manager Certificate agree with each other, with the Services
 * they route to, with the policies that must let the ingress gateway through, and with what the
 * gateway process does (its body limit, its subgraph deadline, its subscriptions, its TRUST_PROXY).
 * The API schemas cannot see any of this: each object is valid alone and the ingress still broken.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { K8sObject } from './validate.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The ports of the ingress gateway's Service (Istio's gateway chart), which a Gateway's servers name. */
const INGRESS_PORTS = { HTTP: 80, HTTPS: 443 } as const;

/** A workload as checkAgainstCode saw it: the Dockerfile target it runs and its parsed environment. */
export interface Workload {
  target: string;
  env: Record<string, unknown>;
}

export interface IngressContext {
  /** By Deployment name. */
  workloads: Map<string, Workload>;
  /** overlays/prod: no self-signed certificate. */
  production: boolean;
}

type Labels = Record<string, string>;
interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
interface HttpMatch {
  uri?: StringMatch;
  headers?: Record<string, StringMatch>;
}
interface RouteDestination {
  host?: string;
  port?: { number?: number };
}
interface HttpRoute {
  name?: string;
  match?: HttpMatch[];
  route?: { destination?: RouteDestination }[];
  directResponse?: { status?: number };
  timeout?: string;
}
interface Server {
  port?: { number?: number; protocol?: string };
  hosts?: string[];
  tls?: { httpsRedirect?: boolean; mode?: string; credentialName?: string };
}
interface Rule {
  from?: { source?: { namespaces?: string[]; principals?: string[] } }[];
  to?: { operation?: { ports?: string[] } }[];
}
interface NetworkPeer {
  namespaceSelector?: { matchLabels?: Labels };
  podSelector?: { matchLabels?: Labels };
  ipBlock?: unknown;
}

const namespaceOf = (o: K8sObject) => o.metadata.namespace ?? 'default';
const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const selects = (selector: Labels | undefined, labels: Labels) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

/** Istio's string match against one value; a regex matches the whole value (RE2; `(?i)` as a flag). */
function matches(match: StringMatch | undefined, value: string): boolean {
  if (!match) return true;
  if (match.exact !== undefined) return match.exact === value;
  if (match.prefix !== undefined) return value.startsWith(match.prefix);
  if (match.regex !== undefined) {
    const insensitive = match.regex.startsWith('(?i)');
    return new RegExp(`^(?:${insensitive ? match.regex.slice(4) : match.regex})$`, insensitive ? 'i' : '').test(value);
  }
  return true;
}

/** A VirtualService duration ("60s", "1.5s", "500ms", "1m") in milliseconds; undefined if unreadable. */
function durationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** Does a certificate name (possibly `*.example.com`) cover a host? */
function covers(dnsName: string, host: string): boolean {
  if (dnsName === host || dnsName === '*') return true;
  return (
    dnsName.startsWith('*.') && host.endsWith(dnsName.slice(1)) && !host.slice(0, -dnsName.length + 1).includes('.')
  );
}

/** The largest JSON body the services accept: express.json's limit in packages/server/src/service.ts. */
export function appBodyLimit(): { text: string; bytes: number } {
  const source = readFileSync(path.join(ROOT, 'packages/server/src/service.ts'), 'utf8');
  const m = /express\.json\(\{\s*limit:\s*'(\d+)(b|kb|mb)'/.exec(source);
  if (!m) throw new Error('found no express.json limit in packages/server/src/service.ts');
  return {
    text: `${m[1]}${m[2]}`,
    bytes: Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2] as 'b' | 'kb' | 'mb'],
  };
}

interface PodTemplate {
  metadata?: { labels?: Labels };
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
}

interface Destination {
  deployment: K8sObject | undefined;
  podLabels: Labels;
  /** The container port the route reaches, by number and name. */
  containerPort: number | undefined;
  portName: string | undefined;
}

/** A route's destination, resolved to a Service of this overlay and its Deployment; or what is wrong. */
function resolve(objects: K8sObject[], vs: K8sObject, destination: RouteDestination | undefined): Destination | string {
  const host = destination?.host ?? '';
  // Istio reads a short name in the VirtualService's namespace; the manifests write the full one.
  const parts = host.replace(/\.svc\.cluster\.local$/, '').split('.');
  const [name, namespace = namespaceOf(vs)] = parts;
  const service =
    parts.length <= 2
      ? objects.find((o) => o.kind === 'Service' && o.metadata.name === name && namespaceOf(o) === namespace)
      : undefined;
  if (!service) return `host: ${host} is no Service of this overlay`;
  const spec = service.spec as { selector?: Labels; ports: { port: number; targetPort?: string | number }[] };
  const number = destination?.port?.number;
  const port =
    number === undefined && spec.ports.length === 1 ? spec.ports[0] : spec.ports.find((p) => p.port === number);
  if (!port)
    return `port.number: ${number} is no port of Service/${name} (${spec.ports.map((p) => p.port).join(', ')})`;
  const deployment = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === name && namespaceOf(o) === namespaceOf(service),
  );
  const template = (deployment?.spec as { template?: PodTemplate } | undefined)?.template;
  const target = port.targetPort ?? port.port;
  const reached = (template?.spec?.containers ?? [])
    .flatMap((c) => c.ports ?? [])
    .find((p) => p.name === target || p.containerPort === target);
  return {
    deployment,
    podLabels: template?.metadata?.labels ?? spec.selector ?? {},
    containerPort: reached?.containerPort,
    portName: reached?.name,
  };
}

export function checkIngress(objects: K8sObject[], context: IngressContext): string[] {
  const problems: string[] = [];
  const certificates = objects.filter((o) => o.apiVersion === 'cert-manager.io/v1' && o.kind === 'Certificate');

  for (const gateway of objects.filter(
    (o) => o.apiVersion.startsWith('networking.istio.io/') && o.kind === 'Gateway',
  )) {
    const where = id(gateway);
    const gatewayNamespace = namespaceOf(gateway);
    const spec = gateway.spec as { selector?: Labels; servers?: Server[] };
    const selector = spec.selector ?? {};
    if (Object.keys(selector).length === 0)
      problems.push(`${where}: spec.selector: empty; it must name the ingress gateway's pods (e.g. istio: ingress)`);
    const servers = spec.servers ?? [];
    const httpsHosts = new Set<string>();
    servers.forEach((server, i) => {
      const field = `spec.servers[${i}]`;
      const protocol = server.port?.protocol?.toUpperCase();
      if (protocol === 'HTTP') {
        if (server.port?.number !== INGRESS_PORTS.HTTP)
          problems.push(
            `${where}: ${field}.port.number: ${server.port?.number}, but the ingress gateway serves HTTP on ${INGRESS_PORTS.HTTP}`,
          );
        if (server.tls?.httpsRedirect !== true)
          problems.push(`${where}: ${field}.tls.httpsRedirect: must be true (plain HTTP only redirects to HTTPS)`);
      } else if (protocol === 'HTTPS') {
        if (server.port?.number !== INGRESS_PORTS.HTTPS)
          problems.push(
            `${where}: ${field}.port.number: ${server.port?.number}, but the ingress gateway serves HTTPS on ${INGRESS_PORTS.HTTPS}`,
          );
        if (server.tls?.mode !== 'SIMPLE' && server.tls?.mode !== 'MUTUAL')
          problems.push(
            `${where}: ${field}.tls.mode: ${server.tls?.mode}, must be SIMPLE (TLS ends at the ingress gateway)`,
          );
        const credential = server.tls?.credentialName;
        const hosts = (server.hosts ?? []).map((h) => h.split('/').pop()!);
        hosts.forEach((h) => httpsHosts.add(h));
        if (!credential) {
          problems.push(`${where}: ${field}.tls.credentialName: missing (the Secret holding the certificate)`);
          return;
        }
        const certificate = certificates.find(
          (c) => namespaceOf(c) === gatewayNamespace && (c.spec as { secretName?: string }).secretName === credential,
        );
        if (!certificate) {
          problems.push(
            `${where}: ${field}.tls.credentialName: ${credential} is the secretName of no Certificate in namespace ` +
              `${gatewayNamespace} (Istio reads it from the ingress gateway's namespace)`,
          );
          return;
        }
        const dnsNames = (certificate.spec as { dnsNames?: string[] }).dnsNames ?? [];
        for (const h of hosts.filter((h) => !dnsNames.some((d) => covers(d, h))))
          problems.push(
            `${id(certificate)}: spec.dnsNames: ${dnsNames.join(', ')} do not cover ${h}, a host of ${where}`,
          );
      } else {
        problems.push(`${where}: ${field}.port.protocol: ${server.port?.protocol}, expected HTTP (redirect) or HTTPS`);
      }
    });
    if (!servers.some((s) => s.port?.protocol?.toUpperCase() === 'HTTPS'))
      problems.push(`${where}: spec.servers: no HTTPS server (TLS is the point of the ingress)`);
    for (const server of servers.filter((s) => s.port?.protocol?.toUpperCase() === 'HTTP'))
      for (const h of (server.hosts ?? []).map((x) => x.split('/').pop()!).filter((x) => !httpsHosts.has(x)))
        problems.push(`${where}: spec.servers: ${h} redirects to HTTPS, but no HTTPS server serves it`);

    const bound = objects.filter(
      (o) =>
        o.kind === 'VirtualService' &&
        ((o.spec as { gateways?: string[] }).gateways ?? []).some((g) =>
          g.includes('/')
            ? g === `${gatewayNamespace}/${gateway.metadata.name}`
            : g === gateway.metadata.name && namespaceOf(o) === gatewayNamespace,
        ),
    );
    if (bound.length === 0) problems.push(`${where}: no VirtualService is bound to it (spec.gateways)`);
    const allHosts = new Set(servers.flatMap((s) => (s.hosts ?? []).map((h) => h.split('/').pop()!)));
    for (const vs of bound) {
      for (const h of ((vs.spec as { hosts?: string[] }).hosts ?? []).filter(
        (x) => ![...allHosts].some((g) => covers(g, x)),
      ))
        problems.push(`${id(vs)}: spec.hosts: ${h} is served by no server of ${where}`);
      problems.push(...checkEdgeRoutes(vs, { gatewayNamespace, selector }, objects, context));
    }
  }

  // Every VirtualService, bound to the ingress or to the mesh: its routes reach a Service and port that
  // exist, and its timeouts are ones Istio takes.
  for (const vs of objects.filter(
    (o) => o.apiVersion.startsWith('networking.istio.io/') && o.kind === 'VirtualService',
  )) {
    const http = (vs.spec as { http?: HttpRoute[] }).http ?? [];
    http.forEach((route, i) => {
      (route.route ?? []).forEach((r, j) => {
        const destination = resolve(objects, vs, r.destination);
        if (typeof destination === 'string')
          problems.push(`${id(vs)}: spec.http[${i}].route[${j}].destination.${destination}`);
      });
      if (route.timeout !== undefined) {
        const ms = durationMs(route.timeout);
        if (ms === undefined)
          problems.push(`${id(vs)}: spec.http[${i}].timeout: ${route.timeout} is no duration (e.g. 60s)`);
        else if (ms < 1)
          problems.push(
            `${id(vs)}: spec.http[${i}].timeout: ${route.timeout}: Istio refuses a timeout under 1ms; leave it out for none`,
          );
      }
    });
  }

  for (const certificate of certificates) {
    const spec = certificate.spec as { issuerRef?: { group?: string; kind?: string; name?: string } };
    const ref = spec.issuerRef ?? {};
    if (ref.group !== undefined && ref.group !== 'cert-manager.io') continue; // an external issuer (e.g. AWS PCA)
    const kind = ref.kind ?? 'Issuer';
    const issuer = objects.find(
      (o) =>
        o.apiVersion === 'cert-manager.io/v1' &&
        o.kind === kind &&
        o.metadata.name === ref.name &&
        (kind === 'ClusterIssuer' || namespaceOf(o) === namespaceOf(certificate)),
    );
    if (kind === 'Issuer' && !issuer)
      problems.push(
        `${id(certificate)}: spec.issuerRef: Issuer ${ref.name} is not in namespace ${namespaceOf(certificate)} in this overlay`,
      );
    if (context.production && issuer && (issuer.spec as { selfSigned?: unknown }).selfSigned)
      problems.push(
        `${id(certificate)}: spec.issuerRef: ${kind} ${ref.name} is self-signed; production needs an issuer clients trust (a ClusterIssuer)`,
      );
  }
  return problems;
}

/**
 * One VirtualService bound to the ingress Gateway: oversized bodies refused before anything reaches the
 * gateway, subscriptions routed without a timeout, a timeout above the gateway's own subgraph deadline,
 * and the NetworkPolicy, AuthorizationPolicy and TRUST_PROXY of every workload it reaches.
 */
function checkEdgeRoutes(
  vs: K8sObject,
  ingress: { gatewayNamespace: string; selector: Labels },
  objects: K8sObject[],
  context: IngressContext,
): string[] {
  const problems: string[] = [];
  const where = id(vs);
  const http = (vs.spec as { http?: HttpRoute[] }).http ?? [];
  const label = (i: number) => `spec.http[${i}]${http[i]?.name ? ` (${http[i]!.name})` : ''}`;
  /** The routes that reach a workload, with what they reach. */
  const reaching = http.flatMap((route, i) =>
    (route.route ?? []).flatMap((r) => {
      const destination = resolve(objects, vs, r.destination);
      return typeof destination === 'string' ? [] : [{ i, route, destination }];
    }),
  );
  const workloadOf = (d: Destination) => (d.deployment ? context.workloads.get(d.deployment.metadata.name) : undefined);

  // Bodies: the first route that reaches a workload must come after the one refusing what it would refuse.
  const limit = appBodyLimit();
  const firstReaching = reaching.length ? Math.min(...reaching.map((r) => r.i)) : http.length;
  const bodyIndex = http.findIndex(
    (r) => r.directResponse?.status === 413 && r.match?.some((m) => m.headers?.['content-length']),
  );
  if (bodyIndex < 0 || bodyIndex > firstReaching) {
    problems.push(
      `${where}: spec.http: no route before ${label(firstReaching)} answers 413 to a Content-Length above ${limit.bytes} ` +
        `(the services' express.json limit '${limit.text}')`,
    );
  } else {
    const header = http[bodyIndex]!.match!.find((m) => m.headers?.['content-length'])!.headers!['content-length'];
    const refused = (n: number) => matches(header, String(n));
    const accepted = [0, 1024, limit.bytes].find(refused);
    if (accepted !== undefined)
      problems.push(
        `${where}: ${label(bodyIndex)}.match.headers.content-length: refuses ${accepted} bytes, which the gateway accepts ('${limit.text}')`,
      );
    if (!refused(limit.bytes + 1) || !refused(limit.bytes * 10))
      problems.push(
        `${where}: ${label(bodyIndex)}.match.headers.content-length: lets ${limit.bytes + 1} bytes through, above the gateway's '${limit.text}'`,
      );
  }

  // Subscriptions: to a process that serves them (the gateway), a route per transport without a timeout,
  // ahead of every route with one.
  const toGateway = reaching.filter((r) => workloadOf(r.destination)?.target === 'gateway');
  if (toGateway.length > 0) {
    const streams = [
      { transport: 'WebSocket', header: 'upgrade', value: 'websocket' },
      { transport: 'SSE', header: 'accept', value: 'text/event-stream' },
    ];
    for (const stream of streams) {
      const found = toGateway.find(({ route }) =>
        (route.match ?? []).some(
          (m) =>
            m.headers?.[stream.header] && matches(m.headers[stream.header], stream.value) && matches(m.uri, '/graphql'),
        ),
      );
      if (!found) {
        problems.push(
          `${where}: spec.http: no route sends ${stream.transport} subscriptions (${stream.header}: ${stream.value} on /graphql) ` +
            `to the gateway apart, without a timeout`,
        );
        continue;
      }
      if (found.route.timeout !== undefined)
        problems.push(
          `${where}: ${label(found.i)}.timeout: ${found.route.timeout} would end every ${stream.transport} subscription at that age; leave it out`,
        );
      for (const timed of toGateway.filter((r) => r.route.timeout !== undefined && r.i < found.i))
        problems.push(
          `${where}: ${label(timed.i)}: has a timeout and comes before ${label(found.i)}, so it takes the ${stream.transport} subscriptions`,
        );
    }
    for (const { i, route, destination } of toGateway) {
      const deadline = workloadOf(destination)?.env.SUBGRAPH_TIMEOUT_MS as number | undefined;
      const ms = route.timeout === undefined ? undefined : durationMs(route.timeout);
      if (ms !== undefined && deadline !== undefined && ms <= deadline)
        problems.push(
          `${where}: ${label(i)}.timeout: ${route.timeout} is not above the gateway's SUBGRAPH_TIMEOUT_MS (${deadline} ms): ` +
            `the edge would cut operations the gateway answers with SUBGRAPH_UNAVAILABLE`,
        );
    }
    if (!toGateway.some((r) => r.route.timeout !== undefined))
      problems.push(`${where}: spec.http: no route to the gateway has a timeout (queries and mutations need one)`);
  }

  // Everything the ingress reaches must let the ingress gateway in, and believe its X-Forwarded-For.
  const seen = new Set<string>();
  for (const { destination } of reaching) {
    const deployment = destination.deployment;
    if (!deployment || seen.has(deployment.metadata.name)) continue;
    seen.add(deployment.metadata.name);
    const namespace = namespaceOf(deployment);
    const { podLabels, containerPort: port, portName } = destination;
    const ingressPods = `the ingress gateway (namespace ${ingress.gatewayNamespace}, pods ${Object.entries(
      ingress.selector,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(',')})`;

    const policies = objects.filter(
      (o) =>
        o.kind === 'NetworkPolicy' &&
        namespaceOf(o) === namespace &&
        selects((o.spec as { podSelector?: { matchLabels?: Labels } }).podSelector?.matchLabels, podLabels) &&
        ((o.spec as { policyTypes?: string[] }).policyTypes ?? ['Ingress']).includes('Ingress'),
    );
    const peerAdmits = (peer: NetworkPeer) =>
      !peer.ipBlock &&
      peer.namespaceSelector !== undefined &&
      selects(peer.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': ingress.gatewayNamespace }) &&
      selects(peer.podSelector?.matchLabels, ingress.selector);
    const admitted = policies.some((policy) =>
      (
        (policy.spec as { ingress?: { from?: NetworkPeer[]; ports?: { port?: number | string }[] }[] }).ingress ?? []
      ).some(
        (rule) =>
          (!rule.from || rule.from.some(peerAdmits)) &&
          (!rule.ports || rule.ports.some((p) => p.port === port || (portName !== undefined && p.port === portName))),
      ),
    );
    if (!admitted) problems.push(`${id(deployment)}: no NetworkPolicy lets ${ingressPods} reach it on port ${port}`);

    const allows = objects.filter(
      (o) =>
        o.kind === 'AuthorizationPolicy' &&
        namespaceOf(o) === namespace &&
        ((o.spec as { action?: string }).action ?? 'ALLOW') === 'ALLOW' &&
        selects((o.spec as { selector?: { matchLabels?: Labels } }).selector?.matchLabels, podLabels),
    );
    const sourceAdmits = (from: NonNullable<Rule['from']>[number]) => {
      const source = from.source ?? {};
      if (!source.namespaces && !source.principals) return true;
      return (
        (source.namespaces ?? []).includes(ingress.gatewayNamespace) ||
        (source.principals ?? []).some((p) => p.startsWith(`cluster.local/ns/${ingress.gatewayNamespace}/`))
      );
    };
    const ruleAdmits = (rule: Rule) =>
      (!rule.from || rule.from.some(sourceAdmits)) &&
      (!rule.to || rule.to.some((t) => !t.operation?.ports || t.operation.ports.includes(String(port))));
    if (allows.length > 0 && !allows.some((a) => ((a.spec as { rules?: Rule[] }).rules ?? []).some(ruleAdmits)))
      problems.push(
        `${id(deployment)}: no rule of ${allows.map(id).join(', ')} lets ${ingressPods} reach it on port ${port}`,
      );

    const trust = context.workloads.get(deployment.metadata.name)?.env.TRUST_PROXY;
    if (trust !== undefined && (typeof trust !== 'number' || trust < 1))
      problems.push(
        `Deployment/${deployment.metadata.name}: spec.template.spec.containers[0].env: TRUST_PROXY: ${JSON.stringify(trust)}; ` +
          `behind the ingress gateway it must be a hop count, 1 + its numTrustedProxies (an address list would ` +
          `believe what clients on those networks write in X-Forwarded-For)`,
      );
  }
  return problems;
}
