import { defineConfig } from 'vitest/config';

// Two projects: pure unit suites run without any server; integration suites share one embedded
// runtime (real Postgres, Temporal dev server, local S3) started once per run by the global set-up.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-output/results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/*.test.ts', 'lib/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
