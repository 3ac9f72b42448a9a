/** What the main-thread and worker halves share besides the directory (directory.ts). */
import { withCode } from './errors.js';

/**
 * The first `length` bytes of a slab's view (all of it if `length` is undefined), checked before
 * anything changes hands. Made with the constructor: `subarray()` looks up the species constructor
 * on every call.
 * @internal
 */
export function prefix(view: Uint8Array, length: number | undefined, caller: string): Uint8Array {
  if (length === undefined || length === view.length) return view;
  if (typeof length !== 'number' || length >>> 0 !== length || length > view.length) {
    throw withCode(
      new RangeError(
        `${caller}: length must be an integer from 0 to the slab's capacity, ${view.length}; received ${typeof length === 'number' ? length : typeof length}`,
      ),
      'ERR_OUT_OF_RANGE',
    );
  }
  return new Uint8Array(view.buffer, view.byteOffset, length);
}
