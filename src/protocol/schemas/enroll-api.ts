// The enrollment contract beyond the request body: how a site says which credential it enrolls with, and the operator's one-time tokens.
import Type from 'typebox';
import { Millis, Name } from './common.ts';

/**
 * A site enrolling with a one-time token sends it in this header (inside TLS) and MACs the request
 * with the token itself; the center keeps only the token's hash. Without the header, an unknown id
 * enrolls with the fleet secret and an enrolled id rotates its key with its current site secret.
 */
export const ENROLL_TOKEN_HEADER = 'x-keyhole-enroll-token';

/** A token as the site reads it from `--enroll-token-file`: 43 base64url characters (32 bytes). */
export const ENROLL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The longest a one-time token may stay valid. */
export const ENROLL_TOKEN_MAX_TTL_MS = 30 * 24 * 3_600_000;

/** POST /v1/sites/:site/enroll-token and /v1/sites/:site/reset (operator). */
export const EnrollTokenRequest = Type.Union([
  Type.Object({
    /** How long the token stays valid; 24 h when absent. */
    expiresInMs: Type.Optional(Type.Integer({ minimum: 60_000, maximum: ENROLL_TOKEN_MAX_TTL_MS })),
  }, { additionalProperties: false }),
  Type.Null(),
]);
export type EnrollTokenRequest = Type.Static<typeof EnrollTokenRequest>;

export const EnrollTokenIssued = Type.Object({
  site: Name,
  /** `enroll`: first enrollment of a new id; `reset`: re-enrollment of an enrolled id with a new key. */
  purpose: Type.Union([Type.Literal('enroll'), Type.Literal('reset')]),
  /** Shown once; the center keeps only its hash. */
  token: Type.String({ pattern: ENROLL_TOKEN_PATTERN.source }),
  expiresAt: Millis,
});
export type EnrollTokenIssued = Type.Static<typeof EnrollTokenIssued>;

export const SiteParams = Type.Object({ site: Name });
