/**
 * Type-level test of the public API, checked by `pnpm typecheck` (tsc over packages/*\/test) and
 * never run. Each `// @ts-expect-error` line is a misuse that must not compile: if the API ever
 * accepts one, the directive is unused and tsc fails. The plain lines are correct uses that must
 * keep compiling.
 */
import type { Lease, SlabPool } from '@zeropool/core';
import { type ReclaimReport, SlabPiscina, type SlabPiscinaOptions } from '../../src/index.js';
import { getPool, giveSlab, lendSlab, takeSlab, viewSlab } from '../../src/worker.js';

declare const id: number;
declare const ids: number[];
declare const otherPool: SlabPool;

// ---- Correct uses: these must compile.
type HashTask = { id: number; length: number };
const options: SlabPiscinaOptions = { filename: 'task.mjs', maxThreads: 2, workerData: { name: 'hash' }, pool: { shards: 2 } };
const hashing = new SlabPiscina<HashTask, string>(options);
const sharing = new SlabPiscina({ pool: otherPool });
const untyped = new SlabPiscina();
const pool: SlabPool = hashing.pool;
const digest: Promise<string> = hashing.runWithSlabs({ id, length: 64 }, [id]);
const lentDigest: Promise<string> = hashing.runWithLoans({ id, length: 64 }, ids, { signal: AbortSignal.timeout(1000) });
const readonlyIds: readonly number[] = ids;
hashing.runWithLoans({ id, length: 64 }, readonlyIds);
const received: Uint8Array = hashing.receive(id, 16);
hashing.on('reclaim', (report: ReclaimReport) => report.leased);
const closed: Promise<void> = hashing.close({ force: true });
const destroyed: Promise<void> = sharing.destroy();
const workerPool: SlabPool = getPool();
const taken: Lease = takeSlab(id, 16);
const wholeSlab: Lease = takeSlab(id);
const viewed: Uint8Array = viewSlab(id, 16);
const { id: lentId, bytes: lentBytes }: { id: number; bytes: Uint8Array } = giveSlab(64);
// The former name still works, with the same type.
const formerName: typeof giveSlab = lendSlab;
void formerName;
void [untyped, pool, digest, lentDigest, received, closed, destroyed, workerPool, taken, wholeSlab, viewed, lentId, lentBytes];

// ---- Slab ids are numbers, and a task's ids come as an array.
// @ts-expect-error an id given as a string
takeSlab('3');
// @ts-expect-error a length given as a string
takeSlab(id, '16');
// @ts-expect-error viewSlab without an id
viewSlab();
// @ts-expect-error a size given as a string
giveSlab('64');
// @ts-expect-error giveSlab returns an id and bytes, not bare bytes
const lentView: Uint8Array = giveSlab(64);
// workerData is piscina's: any value, which reaches the workers as given.
new SlabPiscina({ workerData: 'config' });
interface Settings {
  level: number;
}
declare const settings: Settings;
new SlabPiscina({ workerData: settings });
// SlabPiscina exposes itself as piscina exposes its class.
const piscinaClass: typeof SlabPiscina = SlabPiscina.Piscina;
void piscinaClass;
// @ts-expect-error getPool takes nothing: the pool comes from the SlabPiscina that started the worker
getPool(hashing.pool.handle);
// @ts-expect-error a taken slab's id is read-only
taken.id = 5;
// @ts-expect-error one id instead of an array of ids
hashing.runWithLoans({ id, length: 64 }, id);
// @ts-expect-error a Set of ids instead of an array
hashing.runWithSlabs({ id, length: 64 }, new Set([id]));
// @ts-expect-error ids given as strings
hashing.runWithSlabs({ id, length: 64 }, ['3']);
// @ts-expect-error runWithSlabs without the ids: run() is for tasks that carry none
hashing.runWithSlabs({ id, length: 64 });
// @ts-expect-error receive with the bytes instead of the id
hashing.receive(received);

// ---- Tasks and results are typed by the type parameters; untyped, a result is unknown, not any.
// @ts-expect-error a task of another shape than HashTask
hashing.run({ size: 64 });
// @ts-expect-error the result is a string
const wrongResult: Promise<number> = hashing.run({ id, length: 64 });
// @ts-expect-error an untyped SlabPiscina's result is unknown (piscina's own default is any)
const unchecked: Promise<number> = untyped.run({ size: 64 });

// ---- Options.
// @ts-expect-error the pool option is a SlabPool or its options, not an arena size
new SlabPiscina({ pool: 16 * 1024 * 1024 });
// @ts-expect-error a pool option given as a string
new SlabPiscina({ pool: { arenaBytes: '64mb' } });
// @ts-expect-error a pool handle is not a pool: attach it first (in this thread, pass the SlabPool)
new SlabPiscina({ pool: otherPool.handle });
// @ts-expect-error a piscina option given as a string
new SlabPiscina({ maxThreads: '4' });
// @ts-expect-error the pool is read-only
hashing.pool = otherPool;
// @ts-expect-error close's force is a boolean
hashing.close({ force: 'yes' });

void [lentView, wrongResult, unchecked];
