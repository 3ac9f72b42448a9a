import { defineConfig } from 'vitest/config';

// Vitest 4 dropped workspace files: this root config lists the test projects with `test.projects`.
export default defineConfig({
  test: {
    projects: ['packages/*'],
  },
});
