import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{gateway,subgraphs,packages,schema,scripts,tests}/**/*.test.ts'],
    // Tests start real servers and databases; two workers match the machine's two cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    // Vite gives test code graphql's ES module build; a dependency Node loads itself gets the CommonJS
    // one, and graphql-js refuses schemas from the other build. Run this one through Vite too.
    server: { deps: { inline: ['@graphql-inspector/core'] } },
  },
});
