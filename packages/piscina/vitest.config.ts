import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'piscina',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
