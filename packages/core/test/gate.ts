// A start gate for workers that race each other: each worker checks in and sleeps; the test opens
// the gate once all have checked in, so the race starts with every worker running.
// Words of `shared` (a subarray of two words will do): [0] the gate (0 closed, 1 open), [1] how many
// workers have checked in.

/** In a worker: check in, then sleep until the gate opens. */
export function waitAtGate(shared: Int32Array): void {
  Atomics.add(shared, 1, 1);
  Atomics.wait(shared, 0, 0);
}

/** In the test: wait until `count` workers have checked in, then open the gate for all of them. */
export async function openGateWhenReady(shared: Int32Array, count: number): Promise<void> {
  while (Atomics.load(shared, 1) < count) await new Promise((resolve) => setTimeout(resolve, 1));
  Atomics.store(shared, 0, 1);
  Atomics.notify(shared, 0);
}
