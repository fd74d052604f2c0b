import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real processes and servers; two cores is what CI has.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
