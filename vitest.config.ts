import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A home folder and an evalrig cache per test file: tests never touch the user's own.
    setupFiles: ['test/setup/isolated-home.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real processes and servers; two cores is what CI has.
    maxWorkers: 2,
    // describe.concurrent suites start real vLLM stand-ins; more than a few at once starves 2 cores.
    maxConcurrency: 3,
    reporters: ['default'],
  },
});
