// The one polling helper of every test tier (and the benchmarks): convergence is awaited until a deadline, never slept on.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it returns a value that is not undefined, and returns that value. A check that throws counts
 * as "not yet"; after `timeoutMs` it fails with `what` and the last error. `everyMs` is the pause between checks.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await sleep(everyMs);
  }
}
