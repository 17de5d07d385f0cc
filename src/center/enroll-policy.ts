// The enrollment settings with their defaults: fleet secret on or off, rate limits, the confirm window and site expiry.
import type { CenterConfig } from './context.ts';

export interface EnrollPolicy {
  fleetSecret: boolean;
  rate: { perAddress: number; fleet: number; windowMs: number };
  confirmMs: number;
  siteExpiryMs: number;
}

export const DEFAULT_ENROLL_RATE = { perAddress: 30, fleet: 600, windowMs: 60_000 } as const;
export const DEFAULT_ENROLL_CONFIRM_MS = 24 * 3_600_000;
export const DEFAULT_SITE_EXPIRY_MS = 90 * 24 * 3_600_000;

export function enrollPolicy(config: CenterConfig): EnrollPolicy {
  return {
    fleetSecret: config.enrollFleetSecret ?? true,
    rate: config.enrollRate ?? DEFAULT_ENROLL_RATE,
    confirmMs: config.enrollConfirmMs ?? DEFAULT_ENROLL_CONFIRM_MS,
    siteExpiryMs: config.siteExpiryMs ?? DEFAULT_SITE_EXPIRY_MS,
  };
}
