/**
 * `pnpm schema:check`: composes the working tree's subgraphs and compares them with a committed base
 * (the supergraph's API schema and each subgraph's SDL), gates breaking changes and validates every
 * client operation. Exit code 0 when it passes, 1 when it fails, 2 when it was called wrongly.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { postgresUrl } from '@stockgraph/config';
import { UsageStoreError } from '@stockgraph/usage';
import { AcknowledgementError } from './acknowledgements.js';
import { formatMarkdown, formatTerminal } from './check-report.js';
import { GitError } from './git.js';
import { checkSchema } from './schema-check.js';

const USAGE = `Usage: pnpm schema:check [options]
  --base <ref>        commit to compare with (default HEAD; in CI the target branch, e.g. origin/main)
  --allow-breaking    pass even with breaking changes that are not acknowledged
  --json <file>       also write the report as JSON
  --markdown <file>   also write the report as Markdown, for a pull-request comment
  --root <dir>        repository to check (default: this one)
  --usage <url>       judge breaking changes by the usage the gateway recorded in this PostgreSQL
                      database (its USAGE_DATABASE_URL): one a client used fails, naming it; one
                      nobody used passes without acknowledgement
  --days <n>          with --usage: how many days back counts as in use (default 30)
  -h, --help          show this help
`;

function usageError(message: string): never {
  process.stderr.write(`schema:check: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        base: { type: 'string', default: 'HEAD' },
        'allow-breaking': { type: 'boolean', default: false },
        json: { type: 'string' },
        markdown: { type: 'string' },
        root: { type: 'string' },
        usage: { type: 'string' },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
}

const values = parse();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
for (const name of ['base', 'json', 'markdown', 'root', 'usage', 'days'] as const) {
  const value = values[name];
  if (value !== undefined && (value.trim() === '' || value.startsWith('-')))
    usageError(`--${name} needs a value, got ${JSON.stringify(value)}`);
}
const root = values.root ? resolve(values.root) : fileURLToPath(new URL('..', import.meta.url));
if (!statSync(root, { throwIfNoEntry: false })?.isDirectory())
  usageError(`--root ${JSON.stringify(values.root)} is not a directory`);

// The URL may carry a password: the message names the problem, never the value.
if (values.usage !== undefined && !postgresUrl.safeParse(values.usage).success)
  usageError('--usage needs a postgres:// or postgresql:// URL');
if (values.days !== undefined && values.usage === undefined) usageError('--days goes with --usage');
if (
  values.days !== undefined &&
  !(/^\d+$/.test(values.days) && Number(values.days) >= 1 && Number(values.days) <= 3650)
)
  usageError(`--days needs a whole number of days from 1 to 3650, got ${JSON.stringify(values.days)}`);
const usage = values.usage === undefined ? undefined : { url: values.usage, days: Number(values.days ?? 30) };

let report;
try {
  report = await checkSchema({ root, base: values.base, allowBreaking: values['allow-breaking'], usage });
} catch (error) {
  if (error instanceof GitError || error instanceof AcknowledgementError || error instanceof UsageStoreError)
    usageError(error.message);
  throw error;
}

const write = (file: string, text: string) => {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};
if (values.json) write(values.json, `${JSON.stringify(report, null, 2)}\n`);
if (values.markdown) write(values.markdown, formatMarkdown(report));
process.stdout.write(formatTerminal(report));
process.exit(report.ok ? 0 : 1);
