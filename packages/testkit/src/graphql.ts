export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

/**
 * The data of a hand-written test operation read without a declared shape. Tests walk deep into
 * such answers (`data.orders.edges[0].node.customer.name`) and assert on them; a test that wants the
 * checker's help passes its own `T`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: untyped JSON the assertions check
export type UntypedData = any;

/** POSTs a GraphQL request body as JSON and returns status, data and errors. */
export async function post<T = UntypedData>(
  url: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, 'status'>) };
}

/** POSTs an operation the way a client does and returns status, data and errors. */
export async function graphql<T = UntypedData>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  return post<T>(url, { query, variables }, headers);
}

/** Sums a counter's series on a Prometheus /metrics page whose labels include `labels` (0 when absent). */
export async function readCounter(metricsUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).at(-1)), 0);
}
