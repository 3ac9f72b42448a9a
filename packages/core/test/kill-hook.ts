// The kill-point hook the kill-point fixtures install (src/steps.ts): records every kill point
// passed and, at the `stopAt`-th (from 0; -1: never), sets flag[0] and sleeps there until the
// test terminates the thread.
import { setStepHook } from '../src/steps.js';

/** Installs the hook; returns the names of the kill points passed so far (the array it fills). */
export function stopAtKillPoint(stopAt: number, flagBuffer: SharedArrayBuffer): string[] {
  const flag = new Int32Array(flagBuffer);
  const passed: string[] = [];
  setStepHook((name) => {
    const stop = passed.length === stopAt;
    passed.push(name);
    if (!stop) return;
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    for (;;) Atomics.wait(flag, 1, 0);
  });
  return passed;
}
