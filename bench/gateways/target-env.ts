import { readFileSync } from 'node:fs';

/**
 * What the bench hands each comparison gateway: the supergraph (subgraph URLs already pointing at the
 * bench's processes) and the credential production subgraphs demand of their callers.
 */
export function targetEnv() {
  const { BENCH_SUPERGRAPH_PATH, BENCH_SUBGRAPH_SECRET, BENCH_SECRET_HEADER, BENCH_PERSISTED_PATH } = process.env;
  if (!BENCH_SUPERGRAPH_PATH || !BENCH_SUBGRAPH_SECRET || !BENCH_SECRET_HEADER || !BENCH_PERSISTED_PATH)
    throw new Error(
      'started by bench/gateway.ts only: BENCH_SUPERGRAPH_PATH, BENCH_SUBGRAPH_SECRET, BENCH_PERSISTED_PATH',
    );
  const manifest = JSON.parse(readFileSync(BENCH_PERSISTED_PATH, 'utf8')) as Record<string, string>;
  return {
    supergraphSdl: readFileSync(BENCH_SUPERGRAPH_PATH, 'utf8'),
    secret: BENCH_SUBGRAPH_SECRET,
    secretHeader: BENCH_SECRET_HEADER,
    /** Trusted documents by bare sha256 hex, as clients send them in `extensions.persistedQuery`. */
    documents: new Map(Object.entries(manifest).map(([key, text]) => [key.replace(/^sha256:/, ''), text])),
  };
}

/** The line the bench (testkit's startProcess) waits for. */
export function announce(name: string, url: string): void {
  process.stdout.write(`${JSON.stringify({ msg: `${name} listening`, url })}\n`);
}
