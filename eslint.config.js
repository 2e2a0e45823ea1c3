// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import { SUBGRAPHS } from './packages/registry/src/index.ts';

// The registry is TypeScript with erasable syntax only: Node strips its types on import.
const services = SUBGRAPHS;

/**
 * The layers, bottom up: packages/ (shared code) → the services (subgraphs/, gateway/) → ops/ (operations
 * code, which loads the services) → the entry points (cli/, scripts/, infra/) → bench/ and tests/ on
 * top. Code imports down, never up; each folder's rule below names what sits above it.
 */
const ABOVE_SERVICES = ['@stockgraph/ops', '@stockgraph/cli', '**/ops/src/**', '**/cli/src/**', '**/scripts/**'];
const TESTS_AND_BENCHES = ['**/tests/**', '**/bench/**'];
const layer = (files, group, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});

/** A subgraph is deployed on its own: it may use packages/, never another service's code. */
const subgraphBoundary = (/** @type {(typeof SUBGRAPHS)[number]} */ service) => ({
  files: [`${service.dir}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [
              ...services.filter((other) => other !== service).map((other) => other.package),
              '@stockgraph/gateway',
            ],
            message: 'A subgraph never imports another service: share through packages/ or an event contract.',
          },
          {
            group: ['../../*/src/**', '../../../*/src/**', '**/subgraphs/**', '**/gateway/src/**'],
            message: 'A subgraph never reaches into another service by path.',
          },
          {
            group: [...ABOVE_SERVICES, ...TESTS_AND_BENCHES],
            message: 'A service never depends on operations code, entry points, tests or benches.',
          },
        ],
      },
    ],
  },
});

/** Selectors every file is held to; the unit tier's rule below repeats them (a later rule replaces, not merges). */
const typeCheckerOff = [
  { selector: 'TSAsExpression > TSNeverKeyword', message: '`as never` switches the type checker off.' },
  {
    selector: 'TSAsExpression > TSAsExpression > TSUnknownKeyword',
    message: '`as unknown as` switches the type checker off.',
  },
];

/**
 * The unit tier (`*.unit.test.ts`, `pnpm test:unit`) is pure: no server, process or socket, and no sleep
 * (a test waits on the event itself, or uses vi.useFakeTimers). Whatever needs one is an integration test.
 */
const IMPURE =
  /^(@stockgraph\/testkit|postgres|redis|@electric-sql\/pglite|node:(child_process|net|http|https|worker_threads))$/;

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/generated/**', '**/dist/**', '.data/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    // Type-aware: a promise nobody awaits or catches (an unhandled rejection that ends the process), an
    // async function where a callback's result is ignored, an await on something that is no promise.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // noUncheckedIndexedAccess makes `rows[0]!` the honest way to say "the query returns one row".
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', ...typeCheckerOff],
    },
  },
  {
    files: ['**/*.unit.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...typeCheckerOff,
        {
          selector: `ImportDeclaration[source.value=${IMPURE}]`,
          message: 'A unit test starts no server, process or socket: make it a *.test.ts (integration) instead.',
        },
        {
          selector: "CallExpression[callee.name='setTimeout']",
          message: 'A unit test does not sleep: wait on the event itself, or use vi.useFakeTimers().',
        },
      ],
    },
  },
  ...services.map(subgraphBoundary),
  {
    files: ['packages/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...services.map((service) => service.package),
                '@stockgraph/gateway',
                '**/subgraphs/**',
                '**/gateway/src/**',
              ],
              message: 'Shared code never depends on a service.',
            },
            {
              group: [...ABOVE_SERVICES, ...TESTS_AND_BENCHES, '**/schema/*.js', '**/infra/**'],
              message: 'Shared code never depends on operations code, entry points, tests or benches.',
            },
          ],
        },
      ],
    },
  },
  layer(
    ['gateway/**/*.ts'],
    [...services.map((service) => service.package), '**/subgraphs/**', ...ABOVE_SERVICES, ...TESTS_AND_BENCHES],
    'The gateway reaches the subgraphs over HTTP only, and never depends on operations code, tests or benches.',
  ),
  layer(
    ['ops/**/*.ts'],
    ['@stockgraph/cli', '**/cli/src/**', '**/scripts/**', '**/infra/**', ...TESTS_AND_BENCHES],
    'Operations code is called by the CLI, scripts and the migration job, never the other way round.',
  ),
  layer(
    ['cli/**/*.ts', 'scripts/**/*.ts', 'infra/**/*.ts', 'schema/**/*.ts'],
    ['@stockgraph/cli', '**/cli/src/**', '**/scripts/**', ...TESTS_AND_BENCHES],
    'An entry point uses ops/, the services and packages/: not another entry point, tests or benches.',
  ),
  layer(
    ['bench/**/*.ts'],
    ['**/tests/**', '**/subgraphs/*/src/**', '**/gateway/src/**', '**/cli/src/**', '**/scripts/**'],
    "A bench uses packages, ops/ and the services' public exports: never tests or a service's files by path.",
  ),
  {
    // Plain JavaScript entry points run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
