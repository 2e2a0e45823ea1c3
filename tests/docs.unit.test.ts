/**
 * The docs name files, commands and settings; this fails, naming the file and line, when one of them no
 * longer exists: README.md, ARCHITECTURE.md and every docs/**.md are read for
 * - repository paths in backticks (`packages/db/src/partitions.ts`, `infra/k8s/base/<name>/`) and relative
 *   markdown links, with the heading a `#anchor` into a markdown file names (GitHub's slugs);
 * - `pnpm <script>` commands: a script of the root package.json, of the package `--filter` names, or a
 *   `pnpm stockgraph <command> <subcommand>` the CLI registers;
 * - environment variables in backticks (`DATABASE_URL`, `CATALOGUE_CACHE_TTL_MS=0`): each must be in
 *   .env.example or in the sources.
 * It only reads files, so it stays in the unit tier.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Never walked: installed packages, build output, run-time data (all gitignored). */
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', '.data', 'coverage', 'backups', 'legacy-import-report']);

/**
 * Paths the docs name that exist only once something ran: build output, caches, the embedded database,
 * what the tests write. A path with one of these segments is not checked.
 */
const GENERATED_SEGMENTS = new Set([
  'dist', // pnpm build's output (gateway/dist/gateway/src/server.js)
  'node_modules', // pnpm install's, e.g. node_modules/.cache/stockgraph/launcher/
  '.data', // pnpm start's embedded PGlite
  'artifacts', // tests/artifacts/, written by the tests (screenshots, schema:check reports)
]);

/**
 * Upper-case names in backticks that are neither in .env.example nor in our sources, on purpose. Each is
 * someone else's: keep this short.
 */
const FOREIGN_NAMES = new Map([
  ['NODE_OPTIONS', "Node's own"],
  ['PGPASSWORD', "libpq's, read by psql and pg_dump"],
  ['FIELD_TYPE_MISMATCH', "an error code of Apollo's composition, quoted from its output"],
]);

/** pnpm's own commands (not scripts); `run` and `exec` are read further. */
const PNPM_COMMANDS = new Set(
  'add audit bin config create dedupe deploy dlx env exec fetch i import init install licenses link list ls outdated pack patch prune publish rebuild remove root run sbom setup store unlink update why'.split(
    ' ',
  ),
);

// ---------------------------------------------------------------- the repository

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, keep, out);
    else if (keep(entry.name)) out.push(path);
  }
  return out;
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const rel = (path: string) => relative(ROOT, path).split('\\').join('/');

const DOCS = [
  'README.md',
  'ARCHITECTURE.md',
  ...walk(join(ROOT, 'docs'), (n) => n.endsWith('.md'))
    .map(rel)
    .sort(),
];
const TOP_LEVEL = new Set(readdirSync(ROOT).filter((name) => !SKIPPED_DIRS.has(name)));

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
}

/** The root package and every workspace package (pnpm-workspace.yaml's `packages:` globs, one level deep). */
function workspacePackages(): { dir: string; json: PackageJson }[] {
  const globs = [...read('pnpm-workspace.yaml').matchAll(/^\s+-\s+['"]?([^'"\s#]+)['"]?\s*$/gm)].map((m) => m[1]!);
  const dirs = new Set(['.']);
  for (const glob of globs) {
    if (!glob.endsWith('/*')) dirs.add(glob);
    else {
      const parent = glob.slice(0, -2);
      if (!existsSync(join(ROOT, parent))) continue;
      for (const name of readdirSync(join(ROOT, parent))) dirs.add(`${parent}/${name}`);
    }
  }
  return [...dirs]
    .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    .map((dir) => ({ dir, json: JSON.parse(read(`${dir}/package.json`)) as PackageJson }));
}

const PACKAGES = workspacePackages();
const ROOT_SCRIPTS = PACKAGES.find((p) => p.dir === '.')!.json.scripts ?? {};
const BINS = new Set(existsSync(join(ROOT, 'node_modules/.bin')) ? readdirSync(join(ROOT, 'node_modules/.bin')) : []);

/** The names the CLI registers (`.command('archive')`), from the folder the root `stockgraph` script runs. */
function cliCommands(): Set<string> | null {
  const entry = /\b((?:[\w.-]+\/)+)[\w.-]+\.ts\b/.exec(ROOT_SCRIPTS.stockgraph ?? '')?.[1];
  if (!entry || !existsSync(join(ROOT, entry))) return null;
  const names = new Set<string>();
  for (const file of walk(join(ROOT, entry), (n) => n.endsWith('.ts')))
    for (const m of readFileSync(file, 'utf8').matchAll(/\.command\(\s*'([\w-]+)/g)) names.add(m[1]!);
  return names.size > 0 ? names : null;
}
const CLI_COMMANDS = cliCommands();

let names: Set<string> | null = null;
const THIS_FILE = fileURLToPath(import.meta.url);
/**
 * Every upper-case identifier in .env.example and in the sources: TypeScript, the JavaScript entry points
 * and the shell scripts (.ci/run reads the CI's own variables). Not this file, whose allow-list would
 * otherwise know itself.
 */
function knownNames(): Set<string> {
  if (names) return names;
  names = new Set<string>();
  const sources = walk(ROOT, (n) => /\.(ts|mts|mjs|js|sh)$/.test(n) && !n.endsWith('.d.ts')).filter(
    (f) => f !== THIS_FILE,
  );
  for (const text of [read('.env.example'), read('.ci/run'), ...sources.map((f) => readFileSync(f, 'utf8'))])
    for (const m of text.matchAll(/\b[A-Z][A-Z0-9_]*\b/g)) names.add(m[0]);
  return names;
}

// ---------------------------------------------------------------- markdown

interface Found {
  file: string;
  line: number;
  text: string;
}

interface Markdown {
  /** Inline code spans outside fenced blocks. */
  code: Found[];
  /** Lines of fenced code blocks. */
  fenced: Found[];
  /** Targets of inline links, `[text](target)`, outside code. */
  links: Found[];
  anchors: Set<string>;
}

/** GitHub's heading ids: lower case, punctuation dropped, each space a hyphen, repeats numbered. */
function slugs(headings: string[]): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const heading of headings) {
    const text = heading
      .replaceAll(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replaceAll('`', '')
      .toLowerCase();
    const base = text.replaceAll(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replaceAll(' ', '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const parsed = new Map<string, Markdown>();

function parse(file: string): Markdown {
  const cached = parsed.get(file);
  if (cached) return cached;
  const lines = read(file).split('\n');
  const fenced: Found[] = [];
  const headings: string[] = [];
  const anchors = new Set<string>();
  let fence: string | null = null;
  // Fenced lines are blanked out of the prose, so line numbers stay right.
  const prose = lines.map((line, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      // A shell comment is prose: `# once, if pnpm is not installed` runs nothing.
      else fenced.push({ file, line: i + 1, text: line.replace(/(^|\s)#.*$/, '') });
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) headings.push(heading);
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    return line;
  });
  const text = prose.join('\n');
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const code: Found[] = [];
  for (const m of text.matchAll(/`([^`]+)`/g)) code.push({ file, line: lineAt(m.index), text: m[1]! });
  // Links outside code spans: the spans are blanked (newlines kept) first.
  const outside = text.replaceAll(/`[^`]+`/g, (span) => span.replaceAll(/[^\n]/g, ' '));
  const links: Found[] = [];
  for (const m of outside.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    links.push({ file, line: lineAt(m.index), text: m[1]! });
  for (const slug of slugs(headings)) anchors.add(slug);
  const result = { code, fenced, links, anchors };
  parsed.set(file, result);
  return result;
}

const where = (f: Found) => `${f.file}:${f.line}`;

// ---------------------------------------------------------------- paths and anchors

/** Whether a repository path exists; `<name>`, `*` and `…` in it match any one path segment (or its part). */
function pathExists(path: string): boolean {
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  const matchIn = (dir: string, rest: string[]): boolean => {
    if (rest.length === 0) return true;
    const [segment, ...tail] = rest as [string, ...string[]];
    if (!/[<*…{]/.test(segment)) {
      const next = join(dir, segment);
      return existsSync(next) && (tail.length === 0 || statSync(next).isDirectory()) && matchIn(next, tail);
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
    const pattern = new RegExp(
      `^${segment
        .split(/(<[^>]*>|\*|…|\{[^}]*\})/)
        .map((part, i) =>
          i % 2 === 1
            ? part.startsWith('{')
              ? `(?:${part
                  .slice(1, -1)
                  .split(',')
                  .map((s) => s.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&'))
                  .join('|')})`
              : '.+'
            : part.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('')}$`,
    );
    return readdirSync(dir)
      .filter((name) => !SKIPPED_DIRS.has(name) && pattern.test(name))
      .some((name) => tail.length === 0 || matchIn(join(dir, name), tail));
  };
  return matchIn(ROOT, segments);
}

/** A problem with `target` (a repository path, maybe with #anchor), or null. */
function checkTarget(target: string, anchorsOf: (file: string) => Set<string> | null): string | null {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  if (path !== '' && !pathExists(path)) return `\`${path}\` does not exist`;
  if (anchor === undefined || !/\.md$/.test(path === '' ? '.md' : path) || /[<*…]/.test(path)) return null;
  const anchors = anchorsOf(path);
  if (anchors && !anchors.has(anchor)) return `${path || 'this file'} has no heading for #${anchor}`;
  return null;
}

/** A repository path in backticks: no spaces, a slash, and a first segment that is a top-level entry. */
function repositoryPath(code: string): string | null {
  const text = code.trim().replace(/:\d+(:\d+)?$/, '');
  if (/\s/.test(text) || !text.includes('/') || /^[a-z][\w+.-]*:/i.test(text)) return null;
  const path = text.replace(/^\.\//, '');
  const first = path.split('/')[0]!;
  if (!TOP_LEVEL.has(first)) return null;
  if (path.split(/[/#]/).some((segment) => GENERATED_SEGMENTS.has(segment))) return null;
  return path;
}

// ---------------------------------------------------------------- pnpm commands

/** `pnpm …` invocations in a line of code, each as its words (up to a shell separator or a comment). */
function pnpmCommands(text: string): string[][] {
  const out: string[][] = [];
  for (const m of text.matchAll(/(?:^|[\s;&|(`$])pnpm\s+([^\n;&|)#`]*)/g)) out.push(m[1]!.trim().split(/\s+/));
  return out;
}

function packagesNamed(filter: string): { dir: string; json: PackageJson }[] {
  const pattern = new RegExp(
    `^${filter
      .replace(/^['"]|['"]$/g, '')
      .split(/(<[^>]*>|\*)/)
      .map((part, i) => (i % 2 === 1 ? '.+' : part.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
  return PACKAGES.filter((p) => pattern.test(p.json.name ?? '') || pattern.test(p.dir) || pattern.test(`./${p.dir}`));
}

/** A problem with one `pnpm` invocation's words, or null. */
function checkPnpm(words: string[]): string | null {
  let filter: string | null = null;
  let recursive = false;
  let i = 0;
  for (; i < words.length && words[i]!.startsWith('-'); i++) {
    const option = words[i]!;
    if (option === '--filter' || option === '-F') filter = words[++i] ?? null;
    else if (option === '-C' || option === '--dir') i++;
    else if (option === '-r' || option === '--recursive') recursive = true;
  }
  let command = words[i];
  if (command === undefined || !/^[a-z][\w:.-]*$/.test(command)) return null;
  if (command === 'exec' || command === 'dlx') return null;
  if (command === 'run') command = words[++i];
  else if (PNPM_COMMANDS.has(command)) return null;
  if (command === undefined || !/^[a-z][\w:.-]*$/.test(command)) return null;
  const shown = `pnpm ${words.slice(0, i + 1).join(' ')}`;
  if (filter !== null) {
    const matching = packagesNamed(filter);
    if (matching.length === 0) return `\`${shown}\`: no workspace package matches ${filter}`;
    return matching.some((p) => p.json.scripts?.[command])
      ? null
      : `\`${shown}\`: no package matching ${filter} has a script "${command}"`;
  }
  const inAnyPackage = recursive && PACKAGES.some((p) => p.json.scripts?.[command]);
  if (!ROOT_SCRIPTS[command] && !inAnyPackage && !BINS.has(command))
    return `\`${shown}\`: no script "${command}" in package.json`;
  if (command === 'stockgraph' && CLI_COMMANDS) {
    for (const word of words.slice(i + 1, i + 3)) {
      if (!/^[a-z][\w-]*$/.test(word)) break;
      if (!CLI_COMMANDS.has(word))
        return `\`pnpm stockgraph ${words.slice(i + 1).join(' ')}\`: the CLI has no command "${word}"`;
    }
  }
  return null;
}

// ---------------------------------------------------------------- environment variables

const NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/** Upper-case names a code span names: the span itself, or its leading `NAME=value` assignments. */
function variableNames(code: string): string[] {
  const text = code.trim();
  if (NAME.test(text)) return [text];
  const names: string[] = [];
  for (const m of text.matchAll(/(?:^|\s)(?:export\s+)?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=/g)) names.push(m[1]!);
  return names;
}

// ---------------------------------------------------------------- the checks

describe('the docs (README.md, ARCHITECTURE.md, docs/)', () => {
  const anchorsOf = (file: string) => (existsSync(join(ROOT, file)) ? parse(file).anchors : null);

  it('name only repository paths that exist, and headings that exist for their #anchors', () => {
    const problems: string[] = [];
    for (const doc of DOCS) {
      const md = parse(doc);
      for (const found of md.code) {
        const path = repositoryPath(found.text);
        const problem = path && checkTarget(path, anchorsOf);
        if (problem) problems.push(`${where(found)}: ${problem}`);
      }
      for (const found of md.links) {
        const target = found.text;
        if (/^[a-z][\w+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        // Relative to the document, as a markdown viewer reads it; kept inside the repository.
        const resolved = path === '' ? doc : rel(normalize(join(ROOT, dirname(doc), decodeURI(path))));
        if (resolved.startsWith('..')) {
          problems.push(`${where(found)}: (${target}) leaves the repository`);
          continue;
        }
        const problem = checkTarget(anchor === undefined ? resolved : `${resolved}#${anchor}`, anchorsOf);
        if (problem) problems.push(`${where(found)}: (${target}): ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('run only pnpm scripts (and stockgraph commands) that exist', () => {
    const problems: string[] = [];
    for (const doc of DOCS) {
      const md = parse(doc);
      for (const found of [...md.code, ...md.fenced])
        for (const words of pnpmCommands(found.text)) {
          const problem = checkPnpm(words);
          if (problem) problems.push(`${where(found)}: ${problem}`);
        }
    }
    expect(problems).toEqual([]);
  });

  it('name only environment variables that .env.example or the sources know', () => {
    const known = knownNames();
    const problems: string[] = [];
    for (const doc of DOCS) {
      const md = parse(doc);
      const spans = [...md.code, ...md.fenced];
      for (const found of spans)
        for (const name of variableNames(found.text))
          if (!known.has(name) && !FOREIGN_NAMES.has(name))
            problems.push(`${where(found)}: \`${name}\` is in neither .env.example nor any source file`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('slug headings as GitHub does', () => {
    expect([
      ...slugs(['Schema changes: `pnpm schema:check` (subgraph teams)', 'Run it: two commands', 'Alerts', 'Alerts']),
    ]).toEqual(['schema-changes-pnpm-schemacheck-subgraph-teams', 'run-it-two-commands', 'alerts', 'alerts-1']);
  });

  it('catch a missing path, a missing anchor, a missing script and an unknown variable', () => {
    expect(repositoryPath('packages/db/src/no-such-file.ts')).toBe('packages/db/src/no-such-file.ts');
    expect(pathExists('packages/db/src/no-such-file.ts')).toBe(false);
    expect(pathExists('subgraphs/<name>/src/schema.graphql')).toBe(true);
    expect(pathExists('subgraphs/<name>/src/no-such.graphql')).toBe(false);
    expect(checkTarget('README.md#no-such-heading', (f) => parse(f).anchors)).toMatch(/no heading/);
    expect(checkPnpm(['no:such:script'])).toMatch(/no script/);
    expect(checkPnpm(['--filter', '@stockgraph/users', 'no-such-script'])).toMatch(/no package/);
    expect(checkPnpm(['--filter', '@stockgraph/<name>', 'db:generate'])).toBeNull();
    expect(checkPnpm(['test:unit'])).toBeNull();
    expect(variableNames('CATALOGUE_CACHE_TTL_MS=0')).toEqual(['CATALOGUE_CACHE_TTL_MS']);
    expect(knownNames().has(['STOCKGRAPH', 'NO', 'SUCH', 'SETTING'].join('_'))).toBe(false);
    expect(knownNames().has('DATABASE_URL')).toBe(true);
  });
});
