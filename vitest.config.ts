import { defineConfig } from 'vitest/config';

// Integration tests start real broker processes; two cores do not like many at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // CI also writes a JSON summary that .ci/run turns into one closing line.
    reporters: process.env['SPOOL_TEST_RESULTS'] ? ['default', ['json', { outputFile: process.env['SPOOL_TEST_RESULTS'] }]] : ['default'],
  },
});
