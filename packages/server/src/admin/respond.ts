import type { FastifyReply } from 'fastify';

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).send({ error: 'not_found', error_description: `${what} not found` });
}

export function badRequest(reply: FastifyReply, description: string): FastifyReply {
  return reply.code(400).send({ error: 'invalid_request', error_description: description });
}

export function conflict(reply: FastifyReply, description: string): FastifyReply {
  return reply.code(409).send({ error: 'conflict', error_description: description });
}

/** JSON-schema fragments shared by admin routes. */
export const SCOPE_LIST = {
  type: 'array',
  maxItems: 200,
  items: { type: 'string', pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$', maxLength: 200 },
} as const;
export const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' } as const;

/**
 * Query-string integers. Query values are strings and request schemas do not coerce types (app.ts), so
 * these are patterns; handlers convert with Number().
 */
export const QUERY_LIMIT = { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' } as const; // 1..500
export const QUERY_TIME = { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } as const; // ms since the epoch
export const QUERY_ID = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const; // 1..
