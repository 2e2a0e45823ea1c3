import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { DEMO_PASSWORD } from '@stockgraph/demo-data';
import { useSubgraph } from '@stockgraph/testkit';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseUsersEnv, startUsers } from './app.js';

/**
 * Issue 28, finding 18: under Istio every request reaches the users service from its sidecar, whose
 * inbound passthrough connects from 127.0.0.6, and the sidecar passes on the gateway's
 * X-Forwarded-For without adding to it. With the deployed TRUST_PROXY not trusting that peer, every
 * sign-in looked like one address, and one attacker's failures on many accounts locked everyone out.
 * Runs with the TRUST_PROXY of infra/k8s/base/users/configmap.yaml, calling from 127.0.0.6.
 */
const configMap = parseYaml(
  readFileSync(new URL('../../../infra/k8s/base/users/configmap.yaml', import.meta.url), 'utf8'),
) as { data: Record<string, string> };

const service = useSubgraph('users', startUsers, (source) =>
  parseUsersEnv({ ...source, LOGIN_MAX_FAILURES: '3', TRUST_PROXY: configMap.data.TRUST_PROXY! }),
);

const LOGIN = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';

/** A sign-in as the sidecar forwards it: from 127.0.0.6, with the client address the gateway sent. */
function loginThroughSidecar(email: string, password: string, client: string): Promise<string> {
  const body = JSON.stringify({ query: LOGIN, variables: { e: email, p: password } });
  return new Promise((resolve, reject) => {
    const call = request(
      service.current.url,
      {
        method: 'POST',
        localAddress: '127.0.0.6',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => {
          const result = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
          resolve(result.errors?.[0]?.extensions?.code ?? 'OK');
        });
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

describe('sign-in behind a mesh sidecar', () => {
  it('locks the address that failed on many accounts, not every client behind the sidecar', async () => {
    // An address failing on many accounts (4 × LOGIN_MAX_FAILURES) is locked out of all of them.
    const codes: string[] = [];
    for (let i = 0; i < 13; i++)
      codes.push(await loginThroughSidecar(`nobody-${i}@example.com`, 'guess', '203.0.113.50'));
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    expect(await loginThroughSidecar('viewer@stockgraph.local', DEMO_PASSWORD, '203.0.113.50')).toBe('RATE_LIMITED');
    // Another client, through the same sidecar, signs in.
    expect(await loginThroughSidecar('viewer@stockgraph.local', DEMO_PASSWORD, '198.51.100.60')).toBe('OK');
  });
});
