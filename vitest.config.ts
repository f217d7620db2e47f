import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Redis, Chromium and child processes: `npm run test:coordination` (vitest.coordination.config.ts).
    exclude: [...configDefaults.exclude, 'test/coordination/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
