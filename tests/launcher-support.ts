import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ROOT } from '@stockgraph/testkit';

/** Finds a base port with the `after` ports after it free too (the launchers use PORT..PORT+4). */
export async function freeBasePort(after = 4): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768 up): a port there can be taken, between this check and the
    // launcher's listen, as the local end of any outgoing connection on the machine (seen in CI).
    const base = 20_000 + Math.floor(Math.random() * (32_768 - 20_000 - after - 1));
    const free = await Promise.all(Array.from({ length: after + 1 }, (_, i) => tryPort(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

/** The environment `pnpm start` and `pnpm dev` get in tests: embedded PGlite in `dataDir`, quiet logs. */
export function launcherEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    PGLITE_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    DATABASE_URL: '',
  };
}

/** The tracked files as they are now, and node_modules as links into this checkout's store. */
export function copyRepository(target: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(ROOT, file), join(target, file), { verbatimSymlinks: true });
  }
  // Workspace links are relative, so they point into the copy; only the package store is shared.
  const nodeModules = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir))) {
      if (entry === '.pnpm') symlinkSync(join(ROOT, dir, entry), join(target, dir, entry));
      else cpSync(join(ROOT, dir, entry), join(target, dir, entry), { recursive: true, verbatimSymlinks: true });
    }
  };
  mkdirSync(join(target, 'node_modules'));
  nodeModules('node_modules');
  for (const group of ['packages', 'subgraphs']) {
    for (const name of readdirSync(join(ROOT, group))) {
      // A package without dependencies (the registry) has no node_modules.
      if (!existsSync(join(ROOT, group, name, 'node_modules'))) continue;
      cpSync(join(ROOT, group, name, 'node_modules'), join(target, group, name, 'node_modules'), {
        recursive: true,
        verbatimSymlinks: true,
      });
    }
  }
  for (const dir of ['gateway', 'cli', 'tests', 'ops', 'infra/migrate']) {
    if (!existsSync(join(ROOT, dir, 'node_modules'))) continue;
    cpSync(join(ROOT, dir, 'node_modules'), join(target, dir, 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: target, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@stockgraph.local', 'commit', '-qm', 'base');
}
