// Retrying a first contact with the center (registration, enrollment) while it cannot be reached; a refusal is final.
import type { Logger } from 'pino';
import { KeyholeError } from '../protocol/errors.ts';
import { sleep } from './sleep.ts';

/**
 * Runs `attempt` until it succeeds, backing off from 1 s to 30 s while the center is unreachable or
 * busy. Any other error (a bad token, a bad block, a refused secret) will not heal by waiting and is
 * thrown. Returns null when `signal` aborts first.
 */
export async function untilReached<T>(what: string, attempt: () => Promise<T>, log: Logger, signal: AbortSignal): Promise<T | null> {
  let wait = 1000;
  while (!signal.aborted) {
    try {
      return await attempt();
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof KeyholeError && err.code !== 'CENTER_UNREACHABLE' && err.code !== 'UNAVAILABLE' && err.code !== 'RATE_LIMITED') throw err;
      log.warn({ err, ms: wait }, `center unreachable; retrying ${what}`);
      await sleep(wait, signal);
      wait = Math.min(wait * 2, 30_000);
    }
  }
  return null;
}
