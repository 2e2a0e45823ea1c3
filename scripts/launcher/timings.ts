/**
 * Phase timings for `pnpm start --timings` and `pnpm dev`: each phase's start and end since the
 * process began, so phases that overlap (the four subgraphs start together) read as they ran.
 */
export interface Timings {
  /** Runs `work` as the phase `name`. */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Records a moment (a log line such as "database migrated") inside a running phase. */
  mark(name: string): void;
  report(): string;
}

export function createTimings(): Timings {
  const rows: { name: string; from: number; to: number }[] = [];
  const now = () => performance.now();
  return {
    async phase(name, work) {
      const from = now();
      try {
        return await work();
      } finally {
        rows.push({ name, from, to: now() });
      }
    },
    mark(name) {
      const at = now();
      rows.push({ name, from: at, to: at });
    },
    report() {
      const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
      const width = Math.max(...rows.map((r) => r.name.length));
      const lines = [...rows]
        .sort((a, b) => a.to - b.to)
        .map((r) =>
          r.to === r.from
            ? `  ${r.name.padEnd(width)}  at ${s(r.to)}`
            : `  ${r.name.padEnd(width)}  ${s(r.to - r.from).padStart(6)}  (${s(r.from)} → ${s(r.to)})`,
        );
      return ['Start-up phases (since the process began):', ...lines, ''].join('\n');
    },
  };
}
