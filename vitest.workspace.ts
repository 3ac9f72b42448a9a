import { defineConfig } from 'vitest/config';

// Vitest 4 dropped workspace files: this root config lists the test projects with `test.projects`.
// The JSON report lets .ci/run print a plain "N passed, N failed" line and refuse an empty run.
export default defineConfig({
  test: {
    projects: ['packages/*'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
