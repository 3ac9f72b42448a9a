// The published build keeps every export's own name: stack traces, console output and
// `error.name` checks read it (a bundler renames a class that refers to itself unless told not to).
import { describe, expect, it } from 'vitest';

describe('the published build', () => {
  it('names each exported class and function as it is exported', async () => {
    // Built by the test command before the tests run; not a module the type check can see.
    const built = (await import(new URL('../dist/index.js', import.meta.url).href)) as Record<string, unknown>;
    const named = Object.entries(built).filter(([, value]) => typeof value === 'function');
    expect(named.length).toBeGreaterThan(5);
    for (const [name, value] of named) expect((value as { name: string }).name, name).toBe(name);
  });
});
