// What each error code means, for people: the text of docs/errors.md (scripts/gen-errors-doc.ts renders it).
import type { ErrorCode } from './errors.ts';

/** One line per code, saying when keyhole answers with it. A new code without a meaning fails the type-check. */
export const ERROR_MEANINGS: Record<ErrorCode, string> = {
  BAD_REQUEST: 'A request, flag or form field does not fit its schema or rules; the field at fault is named when there is one.',
  BAD_CONFIG: 'A configuration or state file (or the combination of flags) cannot be used; the message names the file or flag.',
  DEVICE_UNKNOWN: "A ticket names a device the site's host table does not hold.",
  LEVEL_FORBIDDEN: 'The requested access level does not allow this: the gateway itself opens only at level admin.',
  LAN_OVERLAPS_POOL: "The site's LAN overlaps the center's address pool; one of them must be renumbered.",
  BLOCK_INVALID: "A hub's address block is malformed, outside the pool, or too small.",
  SIGNATURE_BAD: "A site request's signature does not verify against the site's enrolled key.",
  SIGNATURE_MISSING: 'A site request carries no signature headers.',
  TIMESTAMP_SKEW: "A signed request's timestamp is too far from the center's clock.",
  NONCE_REPLAYED: 'A signed request reuses a nonce the center has already seen: a replay.',
  SITE_UNKNOWN: 'A signed request names a site the center has not enrolled.',
  TOKEN_BAD: 'A bearer token (operator or hub) is missing or not valid.',
  LOGIN_FAILED: "The console's name and password do not match an operator.",
  CSRF_BAD: "A form's CSRF token is missing or does not match the session.",
  RATE_LIMITED: 'Too many attempts (logins, requests) in a short time; try again later.',
  NOT_FOUND: 'No such route, page, lab or node.',
  TICKET_UNKNOWN: 'No ticket has this number.',
  HUB_UNKNOWN: 'No hub has this name.',
  TICKET_STATE: "The ticket's state does not allow the action (already ended, not ready, changed meanwhile).",
  HUB_CONFLICT: "A hub's change would strand what it holds (its block, while it still holds leases).",
  HUBS_FULL: 'No healthy hub has a free slot for the site.',
  POOL_EXHAUSTED: "The hub's block has no free address for a device.",
  UNAVAILABLE: 'A service is not ready or has stopped (a center closing, a lab daemon that exited); retry later.',
  CENTER_UNREACHABLE: 'An agent or the CLI could not reach the center (network, TLS or no answer).',
  AGENT_UNREACHABLE: "The CLI could not reach the local site agent's control socket.",
  TOOL_FAILED: 'A program keyhole runs (wg, wireguard-go, nft, ip, conntrack) failed; the error carries its argv, exit status and stderr.',
  SEAL_FAILED: 'A secret could not be sealed to, or opened with, an X25519 (WireGuard) key.',
  INTERNAL: 'A bug: something keyhole did not expect. The log holds the details.',
};
