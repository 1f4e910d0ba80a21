import { isUtf8 } from 'node:buffer';

import { DEFAULT_MAX_JSON_DEPTH, JsonSyntaxError, parseStrictJson } from '@tessera/core';
import type { FastifyInstance } from 'fastify';

import { RequestError } from './errors.js';

/**
 * application/json bodies (the admin API, revocation reports), parsed as strictly as tokens are: UTF-8 that
 * decodes without a replacement character, no repeated member name (JSON.parse keeps the last one, so two
 * readers of one body could disagree), nesting no deeper than tokens may. Anything else is a 400 before a
 * handler sees it. An empty body is no body.
 */
export function strictJsonBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    if (!isUtf8(body)) return done(new RequestError(400, 'the request body is not valid UTF-8'), undefined);
    try {
      done(null, parseStrictJson(body.toString('utf8'), DEFAULT_MAX_JSON_DEPTH));
    } catch (err) {
      const reason = err instanceof JsonSyntaxError ? err.reason : 'syntax';
      done(new RequestError(400, JSON_REFUSALS[reason]), undefined);
    }
  });
}

const JSON_REFUSALS = {
  syntax: 'the request body is not valid JSON',
  duplicate: 'the request body repeats a member name',
  depth: 'the request body is nested too deeply',
} as const;
