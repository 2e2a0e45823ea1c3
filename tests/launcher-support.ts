import { createServer } from 'node:net';

/** Finds a base port with the four after it free too (the launchers use PORT..PORT+4). */
export async function freeBasePort(): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 3, 4].map((i) => tryPort(base + i)));
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
