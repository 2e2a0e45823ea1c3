import { configDefaults, defineConfig } from 'vitest/config';

const FOLDERS = '{cli,gateway,ops,subgraphs,packages,schema,scripts,tests}';
/** Pure tests: no server, process or socket, no sleep (eslint.config.js holds them to it). */
const UNIT = [`${FOLDERS}/**/*.unit.test.ts`];

export default defineConfig({
  test: {
    pool: 'forks',
    // Integration tests start real servers and databases; two workers match the machine's two cores.
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    // Vite gives test code graphql's ES module build; a dependency Node loads itself gets the CommonJS
    // one, and graphql-js refuses schemas from the other build. Run this one through Vite too.
    server: { deps: { inline: ['@graphql-inspector/core'] } },
    // `pnpm test:unit` runs the first while editing (seconds); `pnpm test` (CI) runs both.
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, testTimeout: 10_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [`${FOLDERS}/**/*.test.ts`],
          exclude: [...configDefaults.exclude, ...UNIT],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
