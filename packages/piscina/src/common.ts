/** What the main-thread and worker halves share: where the pool handle travels in workerData. */

/** The key under which the pool handle is merged into the user's `workerData`. */
export const HANDLE_KEY = '__zeropoolHandle';
