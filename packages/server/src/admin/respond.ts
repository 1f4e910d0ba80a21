import { NotFoundError, ConflictError, type AdminError } from '../services/errors.js';
import type { Actor } from '../services/actor.js';

/** The admin API's answer to a refusal of the admin service: 404 `not_found`, 409 `conflict`, else 400 `invalid_request`. */
export function adminRefusal(err: AdminError): { status: number; body: { error: string; error_description: string } } {
  if (err instanceof NotFoundError) return { status: 404, body: { error: 'not_found', error_description: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { error: 'conflict', error_description: err.message } };
  return { status: 400, body: { error: 'invalid_request', error_description: err.message } };
}

/**
 * A change to the signing keys that waited its full time for another instance's change: nothing changed,
 * the caller may try again (503 with `Retry-After`, as the token endpoint answers when it is busy).
 */
export const KEYS_BUSY_REFUSAL = {
  status: 503,
  body: {
    error: 'temporarily_unavailable',
    error_description: 'the signing keys are being changed by another instance; try again',
  },
  retryAfter: 5,
} as const;

/** The caller of an admin route, as the audit trail records it. */
export function actorOf(req: { admin: { sub?: string; clientId?: string } | null; ip: string }): Actor {
  return { actor: req.admin?.sub ?? null, ip: req.ip };
}

/** JSON-schema fragments shared by admin routes. */
export const SCOPE_LIST = {
  type: 'array',
  maxItems: 200,
  items: { type: 'string', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$', maxLength: 200 },
} as const;
/** A space-separated scope string (RFC 6749 section 3.3), possibly empty. */
export const SCOPE_STRING = {
  type: 'string',
  maxLength: 40_000,
  pattern: '^([\\x21\\x23-\\x5b\\x5d-\\x7e]+( [\\x21\\x23-\\x5b\\x5d-\\x7e]+)*)?$',
} as const;
export const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' } as const;

/**
 * Query-string integers. Query values are strings and request schemas do not coerce types (app.ts), so
 * these are patterns; handlers convert with Number().
 */
export const QUERY_LIMIT = { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' } as const; // 1..500
export const QUERY_TIME = { type: 'string', pattern: '^(0|[1-9][0-9]{0,11})$' } as const; // epoch seconds
export const QUERY_ID = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const; // 1..
