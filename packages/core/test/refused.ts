// Racing threads try ids that may have gone stale: a SlabStateError is the expected refusal, anything
// else is a bug.

import { SlabStateError } from '../src/index.js';

/** Runs `op` and says whether the pool refused it with a SlabStateError; any other error is rethrown. */
export function refused(op: () => void): boolean {
  try {
    op();
    return false;
  } catch (error) {
    if (error instanceof SlabStateError) return true;
    throw error;
  }
}
