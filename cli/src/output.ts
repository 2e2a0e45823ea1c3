import cliProgress from 'cli-progress';

/** How a command talks back: human lines on a terminal, one JSON document with `--json`. */
export interface Output {
  json: boolean;
  /** A line for people; suppressed with --json so stdout stays one JSON document. */
  info(line: string): void;
  /** The command's result: printed as JSON with --json, otherwise through `human`. */
  result<T>(value: T, human: (value: T) => string): void;
  progress(label: string, total: number): Progress;
}

export interface Progress {
  increment(by: number): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { increment() {}, setTotal() {}, stop() {} };

export function createOutput(json: boolean): Output {
  // Progress bars go to stderr and only to a terminal: scripts and CI logs get no carriage returns.
  const interactive = !json && process.stderr.isTTY === true;
  return {
    json,
    info(line) {
      if (!json) process.stdout.write(`${line}\n`);
    },
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
    },
    progress(label, total) {
      if (!interactive) return silent;
      const bar = new cliProgress.SingleBar(
        {
          format: `${label.padEnd(22)} {bar} {percentage}% | {value}/{total} | {eta_formatted} left`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return { increment: (by) => bar.increment(by), setTotal: (t) => bar.setTotal(t), stop: () => bar.stop() };
    },
  };
}
