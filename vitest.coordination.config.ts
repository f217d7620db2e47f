import { defineConfig } from 'vitest/config';

// `npm run test:coordination`: shared sessions across actors, browser pages and processes. Kept out of
// `npm test` because it starts Redis servers, Chromium and child processes.
export default defineConfig({
  test: {
    include: ['test/coordination/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: the browser and process tests each start servers and measure timings.
    fileParallelism: false,
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
