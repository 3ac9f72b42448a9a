/**
 * Kill points for tests: `step(name)` marks the gap between two statements of a multi-step shared
 * update, where a thread may be stopped. Tests bundle the library with `STEPS` on and install a
 * hook that stops the worker at the N-th step, so every interleaving of a kill is reproducible.
 * The published build defines the flag false, so every `if (STEPS) step(...)` compiles away.
 */

/** True only in builds made for the kill-point tests (the bundler's `define` sets it). */
export const STEPS: boolean = (globalThis as { __ZEROPOOL_STEPS__?: boolean }).__ZEROPOOL_STEPS__ === true;

let hook: ((name: string) => void) | undefined;

/** Installs (or with undefined, removes) the function every step calls. Test builds only. */
export function setStepHook(next: ((name: string) => void) | undefined): void {
  hook = next;
}

/** Marks a point between two statements where a stopped thread must leave recoverable state. */
export function step(name: string): void {
  if (hook !== undefined) hook(name);
}
