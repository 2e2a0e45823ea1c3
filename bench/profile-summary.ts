/**
 * Where a process's CPU time went, from the V8 `.cpuprofile` files `node --cpu-prof` wrote: self time
 * by package (or our own folder, or Node's internals) and the functions that cost most. Idle time is
 * left out, so the shares are of the time the process was actually working.
 *
 *   node --import tsx bench/profile-summary.ts DIR
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the system's monotonic clock, the one `process.hrtime` reads. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stretch of time on the monotonic clock, in microseconds: `[from, to]`. */
export type Window = readonly [number, number];

/** Now on the clock V8 stamps its samples with (CLOCK_MONOTONIC on Linux), in microseconds. */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** A package name for a script URL: `pnpm`'s store path, our folder, or Node's own. */
export function ownerOf(url: string): string {
  if (!url) return '(native/V8)';
  // Node's own modules, by module: its fetch (undici), http, streams and the module loader differ a lot.
  if (url.startsWith('node:')) return `node: ${url.slice('node:'.length).replace(/^internal\/(deps\/)?/, '')}`;
  const store = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (store) return store[1]!;
  const plain = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (plain) return plain[1]!;
  const ours = url.match(/\/(gateway|subgraphs\/[^/]+|packages\/[^/]+)\//);
  return ours ? `ours: ${ours[1]}` : url;
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(root)']);

/**
 * `windows`, when given, keeps only the samples taken inside them: a profile covers its process's
 * whole life, and the start and the bench's catalogue seeding put drizzle's query building at 10% of
 * inventory's samples where the measured seconds had it at 1-4%.
 */
export function summariseProfiles(dir: string, title: string, top = 20, windows?: readonly Window[]): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return `${title}: no .cpuprofile in ${dir}`;
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id)!;
      const { functionName, url, lineNumber } = node.callFrame;
      const micros = profile.timeDeltas[i] ?? 0;
      at += micros;
      if (functionName === '(idle)') return;
      if (windows && !windows.some(([from, to]) => at >= from && at <= to)) return;
      total += micros;
      const owner = SPECIAL.has(functionName) ? functionName : ownerOf(url);
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
      const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '';
      const key = `${functionName || '(anonymous)'} ${where} [${owner}]`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    });
  }
  const share = (micros: number) => `${((100 * micros) / Math.max(1, total)).toFixed(1)}%`;
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `| ${name.replace(/\|/g, '\\|')} | ${share(micros)} | ${(micros / 1000).toFixed(0)} |`);
  return [
    `### ${title}: ${(total / 1000).toFixed(0)} ms of CPU sampled (idle excluded${windows ? ', measured seconds only' : ''}), ${files.length} profile(s)`,
    '',
    '| self time by package | share | ms |',
    '| --- | --- | --- |',
    ...rows(byOwner),
    '',
    '| self time by function | share | ms |',
    '| --- | --- | --- |',
    ...rows(byFunction),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts DIR\n');
    process.exit(2);
  }
  process.stdout.write(`${summariseProfiles(dir, path.basename(dir))}\n`);
}
